`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_weight_rom: three shapes (256 x 16,
// 100 x 24 in a 7-bit address space, 16 x 64), memories filled by the bench,
// random read enables and addresses (xorshift32, fixed seed), every cycle
// checks rd_data: the word addressed at the previous enabled edge, held while
// rd_en is low.
module ttfs_weight_rom_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_XORSHIFT32
    `TTFS_TB_VERDICT

    reg [31:0] rng;

    // Instance A: 256 x 16.
    reg        en_a;
    reg [7:0]  addr_a;
    wire [15:0] data_a;
    reg [15:0] mem_a [0:255];
    ttfs_weight_rom #(.ADDR_W(8), .DATA_W(16), .DEPTH(256)) dut_a (
        .clk(clk), .rd_en(en_a), .rd_addr(addr_a), .rd_data(data_a));

    // Instance B: 100 x 24 (DEPTH below 2^ADDR_W).
    reg        en_b;
    reg [6:0]  addr_b;
    wire [23:0] data_b;
    reg [23:0] mem_b [0:99];
    ttfs_weight_rom #(.ADDR_W(7), .DATA_W(24), .DEPTH(100)) dut_b (
        .clk(clk), .rd_en(en_b), .rd_addr(addr_b), .rd_data(data_b));

    // Instance C: 16 x 64.
    reg        en_c;
    reg [3:0]  addr_c;
    wire [63:0] data_c;
    reg [63:0] mem_c [0:15];
    ttfs_weight_rom #(.ADDR_W(4), .DATA_W(64), .DEPTH(16)) dut_c (
        .clk(clk), .rd_en(en_c), .rd_addr(addr_c), .rd_data(data_c));

    integer i;
    initial begin
        rng = 32'h1234_5678;
        en_a = 1'b0; en_b = 1'b0; en_c = 1'b0;
        addr_a = 8'd0; addr_b = 7'd0; addr_c = 4'd0;
        for (i = 0; i < 256; i = i + 1) begin
            rng = xorshift32(rng);
            mem_a[i] = rng[15:0];
            dut_a.mem[i] = rng[15:0];
        end
        for (i = 0; i < 100; i = i + 1) begin
            rng = xorshift32(rng);
            mem_b[i] = rng[23:0];
            dut_b.mem[i] = rng[23:0];
        end
        for (i = 0; i < 16; i = i + 1) begin
            rng = xorshift32(rng);
            mem_c[i][31:0] = rng;
            rng = xorshift32(rng);
            mem_c[i][63:32] = rng;
            dut_c.mem[i] = mem_c[i];
        end
    end

    reg [15:0] exp_a;
    reg [23:0] exp_b;
    reg [63:0] exp_c;
    reg have_a, have_b, have_c;
    integer cycle, reads;
    initial begin
        have_a = 1'b0; have_b = 1'b0; have_c = 1'b0;
        cycle = 0; reads = 0;
    end

    always @(posedge clk) begin
        cycle = cycle + 1;
        // rd_data now shows the request sampled at the previous edge.
        if (have_a && data_a !== exp_a) begin
            $display("FAIL ttfs_weight_rom A cycle %0d: rd_data %h, expected %h", cycle, data_a, exp_a);
            failed = 1'b1;
            $finish;
        end
        if (have_b && data_b !== exp_b) begin
            $display("FAIL ttfs_weight_rom B cycle %0d: rd_data %h, expected %h", cycle, data_b, exp_b);
            failed = 1'b1;
            $finish;
        end
        if (have_c && data_c !== exp_c) begin
            $display("FAIL ttfs_weight_rom C cycle %0d: rd_data %h, expected %h", cycle, data_c, exp_c);
            failed = 1'b1;
            $finish;
        end
        // The request sampled at this edge.
        if (en_a) begin exp_a = mem_a[addr_a]; have_a = 1'b1; reads = reads + 1; end
        if (en_b) begin exp_b = mem_b[addr_b]; have_b = 1'b1; end
        if (en_c) begin exp_c = mem_c[addr_c]; have_c = 1'b1; end
        // Next request.
        rng = xorshift32(rng);
        en_a <= rng[0] | rng[1];
        addr_a <= rng[15:8];
        en_b <= rng[2];
        addr_b <= rng[22:16] % 7'd100;
        en_c <= rng[3] & rng[4];
        addr_c <= rng[31:28];
        if (cycle == 4000) begin
            if (reads < 2000) begin
                $display("FAIL ttfs_weight_rom: only %0d reads", reads);
                failed = 1'b1;
                $finish;
            end
            $display("ttfs_weight_rom_tb: %0d cycles, %0d reads on A", cycle, reads);
            tb_finish;
        end
    end

endmodule
`default_nettype wire
