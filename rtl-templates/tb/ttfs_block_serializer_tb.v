`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_block_serializer: random blocks
// (xorshift32, fixed seed) offered whenever busy = 0, on two instances:
//   hid   P = 4, VW = 10, hidden (BETA = 13, QOUT_W = 3, FIRE_SPS = 2),
//         LANE_STRIDE = 6, random output back-pressure
//   out   P = 3, VW = 8, output layer (every lane of blk_lanes, V itself),
//         LANE_STRIDE = 1, always ready
// Each taken block's expected beats (lanes in blk_lanes and, hidden, with
// V >= BETA, lowest first; index base + lane*LANE_STRIDE; q = clamp(V/BETA))
// and its `last` beat go into a queue here; every output beat is compared,
// and must hold while valid && !ready. Without back-pressure, busy must
// last exactly one cycle per beat to emit after a take. Prints
// "*-* All Finished *-*" on success, "FAIL ..." otherwise.
module ttfs_block_serializer_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_RESET(3)
    `TTFS_TB_VERDICT

    wire [1:0] done;
    wire [1:0] fail;

    ttfs_block_serializer_tb_run #(.NAME("hid"), .P(4), .VW(10), .HIDDEN(1), .BETA(13), .QOUT_W(3),
                                   .FIRE_SPS(2), .LANE_STRIDE(6), .BP(1), .SEED(31))
        hid (.clk(clk), .rst(rst), .done(done[0]), .fail(fail[0]));
    ttfs_block_serializer_tb_run #(.NAME("out"), .P(3), .VW(8), .HIDDEN(0), .BETA(1), .QOUT_W(1),
                                   .FIRE_SPS(1), .LANE_STRIDE(1), .BP(0), .SEED(32))
        out (.clk(clk), .rst(rst), .done(done[1]), .fail(fail[1]));

    always @(posedge clk) begin
        if (&done) begin
            if (|fail) failed = 1'b1;
            tb_finish;
        end
    end

endmodule

module ttfs_block_serializer_tb_run #(
    parameter NAME = "run",
    parameter integer P = 4,
    parameter integer VW = 10,
    parameter integer HIDDEN = 1,
    parameter integer BETA = 13,
    parameter integer QOUT_W = 3,
    parameter integer FIRE_SPS = 1,
    parameter integer LANE_STRIDE = 1,
    parameter integer BP = 0,
    parameter integer SEED = 1
) (
    input  wire clk,
    input  wire rst,
    output reg  done,
    output reg  fail
);

    localparam integer IW = 8;
    localparam integer T = (1 << QOUT_W) - 1;
    localparam integer NBLK = 300;
    localparam integer MAXE = NBLK * (P + 1);

    reg [31:0] rng;
    `TTFS_TB_XORSHIFT32

    reg              take;
    reg [P*VW-1:0]   blk_v;
    reg [P-1:0]      blk_lanes;
    reg              blk_last;
    reg [IW-1:0]     blk_base;
    wire             busy;
    wire             out_valid;
    reg              out_ready;
    wire             out_last;
    wire [IW-1:0]    out_idx;
    wire [QOUT_W-1:0] out_q;
    wire signed [VW-1:0] out_v;

    ttfs_block_serializer #(
        .P(P), .VW(VW), .IDX_OUT_W(IW), .LANE_STRIDE(LANE_STRIDE), .HIDDEN(HIDDEN),
        .QOUT_W(QOUT_W), .BETA(BETA), .FIRE_SPS(FIRE_SPS)
    ) dut (
        .clk(clk), .rst(rst), .take(take), .blk_v(blk_v), .blk_lanes(blk_lanes),
        .blk_last(blk_last), .blk_base(blk_base), .busy(busy),
        .out_valid(out_valid), .out_ready(out_ready), .out_last(out_last),
        .out_idx(out_idx), .out_q(out_q), .out_v(out_v));

    reg [IW-1:0] e_idx [0:MAXE-1];
    integer      e_val [0:MAXE-1];
    reg          e_last [0:MAXE-1];
    integer      nexp, optr, nblk, l, v, q, beats, busy_left, errors;
    reg          held;
    reg          h_last;
    reg [IW-1:0] h_idx;
    reg [QOUT_W-1:0] h_q;
    reg [VW-1:0] h_v;
    reg [31:0]   r;

    initial begin
        done = 1'b0;
        fail = 1'b0;
        rng = 32'h9e3779b9 ^ SEED;
        take = 1'b0;
        out_ready = 1'b0;
        nexp = 0;
        optr = 0;
        nblk = 0;
        busy_left = 0;
        errors = 0;
        held = 1'b0;
    end

    always @(posedge clk) begin
        if (!rst && !done) begin
            // output checks
            if (held && (!out_valid || out_last !== h_last || out_idx !== h_idx || out_q !== h_q || out_v !== h_v)) begin
                errors = errors + 1;
                $display("FAIL ttfs_block_serializer %0s: output beat changed while not ready", NAME);
            end
            held = out_valid && !out_ready;
            {h_last, h_idx, h_q, h_v} = {out_last, out_idx, out_q, out_v};
            if (out_valid && out_ready) begin
                if (optr >= nexp || out_last !== e_last[optr]
                    || (!e_last[optr] && (out_idx !== e_idx[optr]
                        || (HIDDEN != 0 && out_q !== e_val[optr][QOUT_W-1:0])
                        || (HIDDEN == 0 && out_v !== e_val[optr][VW-1:0])))) begin
                    errors = errors + 1;
                    if (errors < 10)
                        $display("FAIL ttfs_block_serializer %0s: beat %0d: last=%b idx=%0d q=%0d v=%0d, want last=%b idx=%0d value=%0d",
                                 NAME, optr, out_last, out_idx, out_q, out_v, e_last[optr], e_idx[optr], e_val[optr]);
                end
                optr = optr + 1;
            end
            if (nblk == NBLK && optr == nexp && !busy && !out_valid) begin
                done <= 1'b1;
                if (errors == 0) $display("ttfs_block_serializer %0s: %0d blocks, %0d beats", NAME, nblk, nexp);
            end
            // busy must last one cycle per beat (no back-pressure)
            if (BP == 0) begin
                if (busy !== (busy_left > 0)) begin
                    errors = errors + 1;
                    $display("FAIL ttfs_block_serializer %0s: busy=%b with %0d beats to go", NAME, busy, busy_left);
                end
                if (busy_left > 0) busy_left = busy_left - 1;
            end
            // a take at this edge: its expected beats
            if (take) begin
                beats = 0;
                for (l = 0; l < P; l = l + 1) begin
                    v = $signed(blk_v[l*VW +: VW]);
                    if (blk_lanes[l] && (HIDDEN == 0 || v >= BETA)) begin
                        q = v / BETA;
                        if (q > T) q = T;
                        e_idx[nexp] = blk_base + l * LANE_STRIDE;
                        e_val[nexp] = (HIDDEN != 0) ? q : v;
                        e_last[nexp] = 1'b0;
                        nexp = nexp + 1;
                        beats = beats + 1;
                    end
                end
                if (blk_last) begin
                    e_idx[nexp] = {IW{1'b0}};
                    e_val[nexp] = 0;
                    e_last[nexp] = 1'b1;
                    nexp = nexp + 1;
                    beats = beats + 1;
                end
                busy_left = beats;
                nblk = nblk + 1;
            end
            // next stimulus
            rng = xorshift32(rng);
            r = rng;
            out_ready <= (BP == 0) || r[0] || r[1];
            if (!busy && !take && nblk < NBLK && r[2]) take <= 1'b1;
            else if (take) take <= 1'b0;
            rng = xorshift32(rng);
            blk_v <= {rng, r} >> 3;
            blk_lanes <= rng[P-1:0] | {{(P-1){1'b0}}, rng[30]};
            blk_last <= rng[31] & rng[29];
            blk_base <= rng[27:20];
            if (errors != 0) fail <= 1'b1;
        end
    end

endmodule
`default_nettype wire
