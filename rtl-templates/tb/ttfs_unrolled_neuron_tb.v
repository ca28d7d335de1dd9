`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_unrolled_neuron.
//
// Eight parameter sets, each driving input vectors back to back, one per
// cycle, with in_valid dropped at random (xorshift32, fixed seeds): first
// the directed vectors (all codes 0, all codes at their maximum, then each
// input alone at its maximum), then random ones (each code 0, its maximum
// or random). Every out_v with out_valid is compared with
// BIAS + sum_j WEIGHTS[j] * in_q[j] computed here in 64 bits (weights and
// bias sign-extended, codes zero-extended): equal when the sum lies in the
// signed VW range (which the bench also checks of its own sets), equal
// modulo 2^VW in the one set built to wrap (WRAP = 1). out_valid must be
// in_valid of the previous edge, or 0 after an edge with rst high: each run
// also pulses its own reset for two cycles mid-stream while in_valid stays
// high. Prints "*-* All Finished *-*" on success, "FAIL ..." otherwise.
module ttfs_unrolled_neuron_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_RESET(3)
    `TTFS_TB_VERDICT

    localparam integer RUNS = 8;
    wire [RUNS-1:0] done;
    wire [RUNS-1:0] fail;

    // One input.
    ttfs_unrolled_neuron_tb_run #(.N_IN(1), .QW_IN(4), .WB(4), .VW(10),
            .WEIGHTS(-4'sd5), .BIAS(10'sd3), .NV(400), .SEED(1))
        r0 (.clk(clk), .rst(rst), .done(done[0]), .fail(fail[0]));
    // The 8-bit extremes and a zero weight; input 0 has weight -127.
    ttfs_unrolled_neuron_tb_run #(.N_IN(5), .QW_IN(8), .WB(8), .VW(20),
            .WEIGHTS({8'sd53, -8'sd1, 8'sd0, 8'sd127, -8'sd127}), .BIAS(20'sd1000),
            .NV(3000), .SEED(2))
        r1 (.clk(clk), .rst(rst), .done(done[1]), .fail(fail[1]));
    // 4-bit weights (-8 .. 7), negative bias.
    ttfs_unrolled_neuron_tb_run #(.N_IN(3), .QW_IN(6), .WB(4), .VW(14),
            .WEIGHTS({-4'sd3, 4'sd7, 4'sh8}), .BIAS(-14'sd100), .NV(2000), .SEED(3))
        r2 (.clk(clk), .rst(rst), .done(done[2]), .fail(fail[2]));
    // One-bit codes, negative bias.
    ttfs_unrolled_neuron_tb_run #(.N_IN(7), .QW_IN(1), .WB(6), .VW(10),
            .WEIGHTS({-6'sd20, 6'sd17, 6'sd0, -6'sd1, 6'sd5, 6'sd31, 6'sh20}),
            .BIAS(-10'sd37), .NV(1000), .SEED(4))
        r3 (.clk(clk), .rst(rst), .done(done[3]), .fail(fail[3]));
    // Reaches the most negative potential exactly (-2^17).
    ttfs_unrolled_neuron_tb_run #(.N_IN(4), .QW_IN(8), .WB(8), .VW(18),
            .WEIGHTS({4{8'sh80}}), .BIAS(-18'sd512), .NV(1500), .SEED(5))
        r4 (.clk(clk), .rst(rst), .done(done[4]), .fail(fail[4]));
    // Reaches the most positive potential exactly (2^17 - 1).
    ttfs_unrolled_neuron_tb_run #(.N_IN(4), .QW_IN(8), .WB(8), .VW(18),
            .WEIGHTS({4{8'sd127}}), .BIAS(18'sd1531), .NV(1500), .SEED(6))
        r5 (.clk(clk), .rst(rst), .done(done[5]), .fail(fail[5]));
    // The narrowest sizes (WB = 2, VW = 3): the sum wraps modulo 2^VW.
    ttfs_unrolled_neuron_tb_run #(.N_IN(3), .QW_IN(2), .WB(2), .VW(3),
            .WEIGHTS({-2'sd1, 2'sd1, 2'sh2}), .BIAS(3'sd1), .NV(500), .SEED(7),
            .WRAP(1))
        r6 (.clk(clk), .rst(rst), .done(done[6]), .fail(fail[6]));
    // Sixteen inputs.
    ttfs_unrolled_neuron_tb_run #(.N_IN(16), .QW_IN(3), .WB(5), .VW(12),
            .WEIGHTS({5'sd15, 5'sh10, 5'sd0, 5'sd1, -5'sd1, 5'sd7, -5'sd9, 5'sd3,
                      5'sd0, 5'sd0, -5'sd12, 5'sd11, 5'sd2, -5'sd2, 5'sd5, -5'sd6}),
            .BIAS(12'sd0), .NV(2000), .SEED(8))
        r7 (.clk(clk), .rst(rst), .done(done[7]), .fail(fail[7]));

    integer cycles;
    initial begin
        @(negedge rst);
        cycles = 0;
        while (done != {RUNS{1'b1}} && cycles < 100000) begin
            @(posedge clk);
            cycles = cycles + 1;
        end
        if (done != {RUNS{1'b1}}) begin
            $display("FAIL ttfs_unrolled_neuron_tb: timeout, done = %b", done);
            failed = 1'b1;
        end else if (fail != {RUNS{1'b0}}) begin
            $display("FAIL ttfs_unrolled_neuron_tb: runs failed: %b", fail);
            failed = 1'b1;
        end else begin
            $display("ttfs_unrolled_neuron_tb: %0d runs passed in %0d cycles", RUNS, cycles);
        end
        tb_finish;
    end

endmodule

// One parameter set: drive NV checked vectors (and the ones lost to the
// reset pulse), check every output against the 64-bit reference.
module ttfs_unrolled_neuron_tb_run #(
    parameter integer N_IN = 4,
    parameter integer QW_IN = 8,
    parameter integer WB = 8,
    parameter integer VW = 20,
    parameter [N_IN*WB-1:0] WEIGHTS = {N_IN{8'h01}},
    parameter [VW-1:0] BIAS = {VW{1'b0}},
    parameter integer NV = 1000,    // outputs to check
    parameter integer SEED = 1,
    parameter integer WRAP = 0      // 1: the sum may leave the VW range
) (
    input  wire clk,
    input  wire rst,
    output reg  done,
    output reg  fail
);

    localparam integer QBITS = N_IN * QW_IN;
    localparam signed [63:0] VMAX = (64'sd1 <<< (VW - 1)) - 64'sd1;
    localparam signed [63:0] VMIN = -(64'sd1 <<< (VW - 1));
    localparam integer RST_AT = NV / 2; // cycle of the local reset pulse

    reg [31:0] rng;
    `TTFS_TB_XORSHIFT32

    // BIAS + sum_j WEIGHTS[j] * q[j], in 64 bits.
    function signed [63:0] ref_sum;
        input [QBITS-1:0] q;
        reg [N_IN*WB-1:0]   wv;
        reg [QBITS-1:0]     qv;
        reg [WB-1:0]        w;
        reg [QW_IN-1:0]     c;
        reg signed [63:0]   s;
        reg signed [63:0]   w64;
        reg signed [63:0]   q64;
        integer             j;
        begin
            wv = WEIGHTS;
            qv = q;
            s = {{(64 - VW){BIAS[VW-1]}}, BIAS};
            for (j = 0; j < N_IN; j = j + 1) begin
                w = wv[j*WB +: WB];
                c = qv[j*QW_IN +: QW_IN];
                w64 = {{(64 - WB){w[WB-1]}}, w};
                q64 = {{(64 - QW_IN){1'b0}}, c};
                s = s + w64 * q64;
            end
            ref_sum = s;
        end
    endfunction

    reg                     lrst;       // this run's reset pulse
    wire                    dut_rst = rst | lrst;
    reg                     in_valid;
    reg  [QBITS-1:0]        in_q;
    wire                    out_valid;
    wire signed [VW-1:0]    out_v;

    ttfs_unrolled_neuron #(.N_IN(N_IN), .QW_IN(QW_IN), .WB(WB), .VW(VW),
            .WEIGHTS(WEIGHTS), .BIAS(BIAS)) dut (
        .clk(clk), .rst(dut_rst), .in_valid(in_valid), .in_q(in_q),
        .out_valid(out_valid), .out_v(out_v));

    // The state seen at the previous edge.
    reg                 seen;
    reg                 p_rst;
    reg                 p_valid;
    reg [QBITS-1:0]     p_q;
    reg signed [63:0]   p_sum;
    reg                 want_valid;
    integer             n_checked;
    integer             n_driven;   // vectors driven with in_valid
    integer             cyc;        // cycles since the shared reset
    integer             errors;
    reg [31:0]          r;
    reg [QBITS-1:0]     v;
    reg [QW_IN-1:0]     code;
    integer             j;
    reg                 force_valid;

    initial begin
        done = 1'b0;
        fail = 1'b0;
        errors = 0;
        rng = 32'h9e3779b9 ^ SEED;
        lrst = 1'b0;
        in_valid = 1'b0;
        in_q = {QBITS{1'b0}};
        seen = 1'b0;
        p_rst = 1'b0;
        p_valid = 1'b0;
        p_q = {QBITS{1'b0}};
        p_sum = 64'sd0;
        n_checked = 0;
        n_driven = 0;
        cyc = 0;
    end

    always @(posedge clk) begin
        // Check the outputs of the previous edge (sampled before this one).
        if (seen) begin
            want_valid = p_rst ? 1'b0 : p_valid;
            if (out_valid !== want_valid) begin
                errors = errors + 1;
                if (errors <= 10)
                    $display("FAIL ttfs_unrolled_neuron N_IN=%0d QW_IN=%0d WB=%0d VW=%0d: out_valid=%b want %b (in_valid=%b rst=%b at the previous edge)",
                             N_IN, QW_IN, WB, VW, out_valid, want_valid, p_valid, p_rst);
                fail <= 1'b1;
            end else if (want_valid) begin
                if (WRAP == 0 && (p_sum > VMAX || p_sum < VMIN)) begin
                    errors = errors + 1;
                    if (errors <= 10)
                        $display("FAIL ttfs_unrolled_neuron_tb N_IN=%0d VW=%0d: bench set leaves the VW range (sum %0d)",
                                 N_IN, VW, p_sum);
                    fail <= 1'b1;
                end
                if (out_v !== p_sum[VW-1:0]) begin
                    errors = errors + 1;
                    if (errors <= 10)
                        $display("FAIL ttfs_unrolled_neuron N_IN=%0d QW_IN=%0d WB=%0d VW=%0d: in_q=%h out_v=%0d want %0d",
                                 N_IN, QW_IN, WB, VW, p_q, out_v, p_sum);
                    fail <= 1'b1;
                end
                n_checked = n_checked + 1;
                if (n_checked >= NV) done <= 1'b1;
            end
        end
        seen = 1'b1;
        p_rst = dut_rst;
        p_valid = in_valid;
        p_q = in_q;
        p_sum = ref_sum(in_q);

        // Drive the next vector.
        if (!rst) cyc = cyc + 1;
        lrst <= (cyc >= RST_AT && cyc < RST_AT + 2);
        // in_valid stays high around the pulse: the reset must win.
        force_valid = (cyc >= RST_AT - 2 && cyc < RST_AT + 4);
        r = xorshift32(rng);
        rng = r;
        if (n_checked < NV && !rst && (force_valid || r[2:0] != 3'd0)) begin
            v = {QBITS{1'b0}};
            for (j = 0; j < N_IN; j = j + 1) begin
                rng = xorshift32(rng);
                if (n_driven == 0) code = {QW_IN{1'b0}};
                else if (n_driven == 1) code = {QW_IN{1'b1}};
                else if (n_driven < N_IN + 2) code = (j == n_driven - 2) ? {QW_IN{1'b1}} : {QW_IN{1'b0}};
                else if (rng[31:29] == 3'd0) code = {QW_IN{1'b0}};
                else if (rng[31:29] == 3'd1) code = {QW_IN{1'b1}};
                else code = rng[QW_IN-1:0];
                v[j*QW_IN +: QW_IN] = code;
            end
            in_valid <= 1'b1;
            in_q <= v;
            n_driven = n_driven + 1;
        end else begin
            // Garbage on in_q while in_valid is low.
            in_valid <= 1'b0;
            in_q <= {QBITS{r[3]}};
        end
    end

endmodule
`default_nettype wire
