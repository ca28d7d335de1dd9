`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_weight_spram (with the SB_SPRAM256KA
// behavioural model from rtl-templates/sim): a 64-bit instance (K = 4) and a
// 40-bit one (K = 3, padded). Phase 1: a loader writes all 16384 words in
// order, with random gaps and random (dropped) read requests alongside.
// Phase 2: random reads and occasional writes at random addresses. Every
// cycle checks rd_data against a shadow memory: the word read at the
// previous edge, held while idle, unchecked after a write cycle (undefined).
module ttfs_weight_spram_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_XORSHIFT32
    `TTFS_TB_VERDICT

    reg [31:0] rng;

    reg         rd_en, wr_en;
    reg  [13:0] rd_addr, wr_addr;
    reg  [63:0] wr_data;
    wire [63:0] rd_data64;
    wire [39:0] rd_data40;

    ttfs_weight_spram #(.DATA_W(64)) dut64 (
        .clk(clk), .rd_en(rd_en), .rd_addr(rd_addr), .rd_data(rd_data64),
        .wr_en(wr_en), .wr_addr(wr_addr), .wr_data(wr_data));

    ttfs_weight_spram #(.DATA_W(40)) dut40 (
        .clk(clk), .rd_en(rd_en), .rd_addr(rd_addr), .rd_data(rd_data40),
        .wr_en(wr_en), .wr_addr(wr_addr), .wr_data(wr_data[39:0]));

    reg [63:0] shadow [0:16383];

    reg [63:0] expected;
    reg        have_exp;
    integer    cycle, loaded, reads, writes, phase, checks;

    initial begin
        rng = 32'hC0FF_EE11;
        rd_en = 1'b0; wr_en = 1'b0;
        rd_addr = 14'd0; wr_addr = 14'd0; wr_data = 64'd0;
        have_exp = 1'b0;
        cycle = 0; loaded = 0; reads = 0; writes = 0; phase = 1; checks = 0;
    end

    always @(posedge clk) begin
        cycle = cycle + 1;
        // rd_data now reflects the access sampled at the previous edge.
        if (have_exp) begin
            checks = checks + 1;
            if (rd_data64 !== expected) begin
                $display("FAIL ttfs_weight_spram 64 cycle %0d: rd_data %h, expected %h", cycle, rd_data64, expected);
                failed = 1'b1;
                $finish;
            end
            if (rd_data40 !== expected[39:0]) begin
                $display("FAIL ttfs_weight_spram 40 cycle %0d: rd_data %h, expected %h", cycle, rd_data40, expected[39:0]);
                failed = 1'b1;
                $finish;
            end
        end
        // The access sampled at this edge: a write wins over a read.
        if (wr_en) begin
            shadow[wr_addr] = wr_data;
            have_exp = 1'b0;
            writes = writes + 1;
            if (phase == 1) loaded = loaded + 1;
        end else if (rd_en) begin
            expected = shadow[rd_addr];
            have_exp = 1'b1;
            reads = reads + 1;
        end
        // Next access.
        if (phase == 1 && loaded == 16384) phase = 2;
        rng = xorshift32(rng);
        if (phase == 1) begin
            // Loader: in-order writes with random gaps; read requests
            // alongside (dropped when they meet a write), only at loaded
            // addresses.
            if (wr_en) wr_addr <= wr_addr + 14'd1;
            wr_en <= rng[1:0] != 2'b00;
            rd_en <= rng[2] && loaded > 0;
            rd_addr <= (loaded == 0) ? 14'd0 : rng[29:16] % loaded[13:0];
        end else begin
            wr_en <= rng[3:0] == 4'd0;
            wr_addr <= rng[17:4];
            rd_en <= rng[18] | rng[19];
            rd_addr <= rng[31:18];
        end
        if (rng[2]) wr_data[31:0] <= xorshift32(rng);
        else wr_data[31:0] <= ~rng;
        wr_data[63:32] <= xorshift32(~rng);
        if (cycle > 200000) begin
            $display("FAIL ttfs_weight_spram: timeout");
            failed = 1'b1;
            $finish;
        end
        if (phase == 2 && reads >= 40000) begin
            $display("ttfs_weight_spram_tb: %0d cycles, %0d writes, %0d reads, %0d checks", cycle, writes, reads, checks);
            tb_finish;
        end
    end

endmodule
`default_nettype wire
