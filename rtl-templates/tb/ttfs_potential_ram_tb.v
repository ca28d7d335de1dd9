`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_potential_ram: random reads and writes
// (xorshift32, fixed seed) against a reference array, on two instances:
//   fwd   WORDS = 5, WIDTH = 12, FORWARD = 1, with reads of the word being
//         written at the same edge (they must see the new word)
//   plain WORDS = 8, WIDTH = 7, FORWARD = 0, never colliding (the caller's
//         promise)
//   late  fwd's stimulus with READ_REG = 1: the word read (forwarded as in
//         fwd) moves to rd_data at the next edge with rd_en2 = 1, with a
//         write to it at that edge forwarded too
// rd_data must hold between reads. Prints "*-* All Finished *-*" on
// success, "FAIL ..." otherwise.
module ttfs_potential_ram_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_RESET(2)
    `TTFS_TB_VERDICT
    `TTFS_TB_XORSHIFT32

    reg [31:0] rng;
    reg        f_rd, f_wr, p_rd, p_wr, l_rd2;
    reg [2:0]  f_ra, f_wa, p_ra, p_wa;
    reg [11:0] f_wd;
    reg [6:0]  p_wd;
    wire [11:0] f_q;
    wire [6:0]  p_q;
    wire [11:0] l_q;

    ttfs_potential_ram #(.WORDS(5), .WIDTH(12), .FORWARD(1)) fwd (
        .clk(clk), .rd_en(f_rd), .rd_addr(f_ra), .rd_en2(1'b0), .rd_data(f_q),
        .wr_en(f_wr), .wr_addr(f_wa), .wr_data(f_wd));
    ttfs_potential_ram #(.WORDS(8), .WIDTH(7), .FORWARD(0)) plain (
        .clk(clk), .rd_en(p_rd), .rd_addr(p_ra), .rd_en2(1'b0), .rd_data(p_q),
        .wr_en(p_wr), .wr_addr(p_wa), .wr_data(p_wd));
    ttfs_potential_ram #(.WORDS(5), .WIDTH(12), .FORWARD(1), .READ_REG(1)) late (
        .clk(clk), .rd_en(f_rd), .rd_addr(f_ra), .rd_en2(l_rd2), .rd_data(l_q),
        .wr_en(f_wr), .wr_addr(f_wa), .wr_data(f_wd));

    reg [11:0] f_ref [0:4];
    reg [6:0]  p_ref [0:7];
    reg [11:0] f_want;
    reg [6:0]  p_want;
    reg [11:0] l_want;
    reg [2:0]  l_xaddr;
    reg        l_armed;
    integer    i, n, collisions, late_collisions;
    reg        started;

    initial begin
        rng = 32'h0badcafe;
        {f_rd, f_wr, p_rd, p_wr, l_rd2} = 5'b00000;
        f_ra = 3'd0; f_wa = 3'd0; p_ra = 3'd0; p_wa = 3'd0;
        f_wd = 12'd0; p_wd = 7'd0;
        n = 0;
        collisions = 0;
        late_collisions = 0;
        l_xaddr = 3'd0;
        l_armed = 1'b0;
        started = 1'b0;
    end

    always @(posedge clk) begin
        if (!rst) begin
            if (started && (f_q !== f_want || p_q !== p_want || l_q !== l_want)) begin
                $display("FAIL ttfs_potential_ram: step %0d: fwd %h want %h, plain %h want %h, late %h want %h",
                         n, f_q, f_want, p_q, p_want, l_q, l_want);
                failed = 1'b1;
            end
            // this edge's effects, in the memories' order (forwarded read
            // sees the write; the plain one never collides; late's register
            // takes the word fwd read before this edge)
            if (n >= 13) started = 1'b1;
            if (l_rd2) l_want = (f_wr && f_wa == l_xaddr) ? f_wd : f_want;
            if (l_rd2 && f_wr && f_wa == l_xaddr) late_collisions = late_collisions + 1;
            if (f_rd) l_xaddr = f_ra;
            if (f_rd) l_armed = 1'b1;
            if (f_rd) f_want = (f_wr && f_wa == f_ra) ? f_wd : f_ref[f_ra];
            if (f_rd && f_wr && f_wa == f_ra) collisions = collisions + 1;
            if (f_wr) f_ref[f_wa] = f_wd;
            if (p_rd) p_want = p_ref[p_ra];
            if (p_wr) p_ref[p_wa] = p_wd;
            n = n + 1;
            // next stimulus: the first 13 edges write every word
            rng = xorshift32(rng);
            if (n < 13) begin
                f_wr <= (n < 5);
                f_wa <= n[2:0];
                f_rd <= 1'b0;
                p_wr <= (n >= 5);
                p_wa <= n - 5;
                p_rd <= 1'b0;
                f_wd <= rng[11:0];
                p_wd <= rng[18:12];
                l_rd2 <= 1'b0;
            end else begin
                f_rd <= rng[0];
                f_wr <= rng[1];
                f_ra <= rng[4:2] % 5;
                f_wa <= (rng[5] ? rng[4:2] : rng[8:6]) % 5;
                f_wd <= rng[20:9];
                p_rd <= rng[21];
                p_wr <= rng[22];
                p_ra <= rng[25:23];
                p_wa <= (rng[25:23] == rng[28:26]) ? rng[25:23] + 3'd1 : rng[28:26];
                p_wd <= rng[31:25];
                // late's register moves only after a first read (before
                // it, its X stands for an unknown word)
                l_rd2 <= (rng[0] | rng[29]) && l_armed;
            end
            if (n == 600) begin
                if (collisions < 20 || late_collisions < 20) begin
                    $display("FAIL ttfs_potential_ram: only %0d colliding reads, %0d late ones",
                             collisions, late_collisions);
                    failed = 1'b1;
                end
                tb_finish;
            end
        end
    end

endmodule
`default_nettype wire
