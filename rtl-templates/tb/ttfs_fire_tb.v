`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_fire.
//
// Several parameter sets, each sweeping V over [-3*BETA, (T + 2)*BETA]
// (clipped to the signed VW range): every value, or for large BETA every
// value within 2 of a multiple of BETA plus two random ones per multiple;
// back to back, one input per cycle,
// against q = V < 0 ? 0 : min(floor(V / BETA), T) computed here in 64 bits.
// Some runs also drop ce and in_valid at random (xorshift32, fixed seeds) to
// check the clock enable and the valid pipeline. Every output is checked for
// its value, its order, and its latency: the tag carries the count of
// enabled cycles at input, which must equal the count at output - LATENCY.
// Prints "*-* All Finished *-*" on success, "FAIL ..." otherwise.
module ttfs_fire_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_RESET(3)
    `TTFS_TB_VERDICT

    wire [6:0] done;
    wire [6:0] fail;

    ttfs_fire_tb_run #(.VW(21), .QW(8), .BETA(1003), .SPS(1), .DENSE(0), .RAND(0), .SEED(1))
        r0 (.clk(clk), .rst(rst), .done(done[0]), .fail(fail[0]));
    ttfs_fire_tb_run #(.VW(8), .QW(4), .BETA(1), .SPS(1), .RAND(0), .SEED(2))
        r1 (.clk(clk), .rst(rst), .done(done[1]), .fail(fail[1]));
    ttfs_fire_tb_run #(.VW(10), .QW(3), .BETA(7), .SPS(1), .RAND(0), .SEED(3))
        r2 (.clk(clk), .rst(rst), .done(done[2]), .fail(fail[2]));
    ttfs_fire_tb_run #(.VW(10), .QW(3), .BETA(7), .SPS(2), .RAND(1), .SEED(4))
        r3 (.clk(clk), .rst(rst), .done(done[3]), .fail(fail[3]));
    ttfs_fire_tb_run #(.VW(16), .QW(5), .BETA(255), .SPS(5), .RAND(1), .SEED(5))
        r4 (.clk(clk), .rst(rst), .done(done[4]), .fail(fail[4]));
    // T*BETA beyond the VW range: never saturates.
    ttfs_fire_tb_run #(.VW(8), .QW(8), .BETA(3), .SPS(3), .RAND(0), .SEED(6))
        r5 (.clk(clk), .rst(rst), .done(done[5]), .fail(fail[5]));
    // One time bit (T = 1).
    ttfs_fire_tb_run #(.VW(6), .QW(1), .BETA(5), .SPS(1), .RAND(1), .SEED(7))
        r6 (.clk(clk), .rst(rst), .done(done[6]), .fail(fail[6]));

    integer cycles;
    initial begin
        @(negedge rst);
        cycles = 0;
        while (done != 7'h7f && cycles < 2000000) begin
            @(posedge clk);
            cycles = cycles + 1;
        end
        if (done != 7'h7f) begin
            $display("FAIL ttfs_fire_tb: timeout, done = %b", done);
            failed = 1'b1;
        end else if (fail != 7'h00) begin
            $display("FAIL ttfs_fire_tb: runs failed: %b", fail);
            failed = 1'b1;
        end
        tb_finish;
    end

endmodule

// One parameter set: sweep, drive, check. DENSE = 1: every V of the range;
// DENSE = 0: for every multiple k*BETA in the range, the five values
// k*BETA - 2 .. k*BETA + 2 and two random ones in [k*BETA, (k+1)*BETA).
module ttfs_fire_tb_run #(
    parameter integer VW = 21,
    parameter integer QW = 8,
    parameter integer BETA = 1003,
    parameter integer SPS = 1,
    parameter integer DENSE = 1,
    parameter integer RAND = 0,
    parameter integer SEED = 1
) (
    input  wire clk,
    input  wire rst,
    output reg  done,
    output reg  fail
);

    localparam integer TAG_W = 8;
    localparam integer LATENCY = (QW + SPS - 1) / SPS + 1;
    localparam signed [63:0] T = (64'sd1 <<< QW) - 64'sd1;
    localparam signed [63:0] VMAX_RANGE = (64'sd1 <<< (VW - 1)) - 64'sd1;
    localparam signed [63:0] VMIN_RANGE = -(64'sd1 <<< (VW - 1));
    localparam signed [63:0] LO_WANT = -3 * BETA;
    localparam signed [63:0] HI_WANT = (T + 2) * BETA;
    localparam signed [63:0] VLO = (LO_WANT < VMIN_RANGE) ? VMIN_RANGE : LO_WANT;
    localparam signed [63:0] VHI = (HI_WANT > VMAX_RANGE) ? VMAX_RANGE : HI_WANT;

    reg [31:0] rng;
    `TTFS_TB_XORSHIFT32

    function [QW-1:0] ref_q;
        input signed [63:0] v;
        reg signed [63:0] q;
        begin
            if (v < 0) q = 0;
            else begin
                q = v / BETA;
                if (q > T) q = T;
            end
            ref_q = q[QW-1:0];
        end
    endfunction

    reg                 ce;
    reg                 in_valid;
    reg signed [VW-1:0] in_v;
    reg [TAG_W-1:0]     in_tag;
    wire                out_valid;
    wire [QW-1:0]       out_q;
    wire [TAG_W-1:0]    out_tag;

    ttfs_fire #(.VW(VW), .QW(QW), .BETA(BETA), .SPS(SPS), .TAG_W(TAG_W)) dut (
        .clk(clk), .rst(rst), .ce(ce),
        .in_valid(in_valid), .in_v(in_v), .in_tag(in_tag),
        .out_valid(out_valid), .out_q(out_q), .out_tag(out_tag));

    localparam integer MAXV = 16384;
    reg signed [63:0] vals [0:MAXV-1];
    integer           nv;       // number of values in vals
    integer           n_in;     // next value to present
    integer           n_out;    // value whose result is expected next
    reg signed [63:0] v_check;
    reg signed [63:0] cand;
    integer           kk;
    integer           oo;
    reg [31:0]        ce_cnt;   // enabled cycles so far
    integer           errors;
    reg [31:0]        r;
    reg [TAG_W-1:0]   tag_want;

    initial begin
        done = 1'b0;
        fail = 1'b0;
        errors = 0;
        rng = 32'h9e3779b9 ^ SEED;
        ce = 1'b0;
        in_valid = 1'b0;
        in_v = {VW{1'b0}};
        in_tag = {TAG_W{1'b0}};
        ce_cnt = 0;
        n_in = 0;
        n_out = 0;
        nv = 0;
        if (DENSE != 0) begin
            for (cand = VLO; cand <= VHI; cand = cand + 1) begin
                vals[nv] = cand;
                nv = nv + 1;
            end
        end else begin
            for (kk = -3; kk <= T + 2; kk = kk + 1) begin
                for (oo = 0; oo < 7; oo = oo + 1) begin
                    if (oo < 5) cand = kk * BETA + oo - 2;
                    else begin
                        rng = xorshift32(rng);
                        cand = kk * BETA + (rng % BETA);
                    end
                    if (cand >= VLO && cand <= VHI) begin
                        vals[nv] = cand;
                        nv = nv + 1;
                    end
                end
            end
        end
        if (nv > MAXV) $display("FAIL ttfs_fire_tb: sweep too long");
    end

    // Driver: a new V is consumed at every edge with ce && in_valid.
    always @(posedge clk) begin
        if (rst) begin
            ce <= 1'b0;
            in_valid <= 1'b0;
        end else begin
            r = xorshift32(rng);
            rng <= r;
            if (ce) ce_cnt <= ce_cnt + 1;
            if (ce && in_valid) n_in = n_in + 1;
            ce <= (RAND == 0) ? 1'b1 : (r[2:0] != 3'd0);
            if (n_in < nv && (RAND == 0 || r[5:4] != 2'd0)) begin
                in_valid <= 1'b1;
                in_v <= vals[n_in][VW-1:0];
                in_tag <= ce ? ce_cnt[TAG_W-1:0] + 1'b1 : ce_cnt[TAG_W-1:0];
            end else begin
                in_valid <= 1'b0;
                in_v <= {VW{1'b1}};
            end
        end
    end

    // Checker: outputs sampled at enabled edges.
    always @(posedge clk) begin
        if (!rst && ce && out_valid && !done) begin
            v_check = vals[n_out];
            tag_want = ce_cnt[TAG_W-1:0] - LATENCY[TAG_W-1:0];
            if (out_q !== ref_q(v_check) || out_tag !== tag_want) begin
                errors = errors + 1;
                if (errors <= 10)
                    $display("FAIL ttfs_fire VW=%0d QW=%0d BETA=%0d SPS=%0d: V=%0d q=%0d want %0d, tag=%0d want %0d",
                             VW, QW, BETA, SPS, v_check, out_q, ref_q(v_check), out_tag, tag_want);
                fail <= 1'b1;
            end
            n_out = n_out + 1;
            if (n_out >= nv) done <= 1'b1;
        end
    end

endmodule
`default_nettype wire
