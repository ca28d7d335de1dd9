`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_argmax.
//
// Nine parameter sets (N = 1, 2, 3, 5, 9, 10, 16; VW from 1, where every
// value is 0 or -1, to 16; CLS_W exact or wider than needed), each driving
// vectors back to back, one per cycle, with in_valid dropped at random
// (xorshift32, fixed seeds): first the directed vectors (all 0, all at the
// minimum, all at the maximum, the maximum alone at the last index,
// negative values in a falling and in a rising pattern, the maximum at the
// first and the last index), then random ones of eight kinds (full range
// twice, narrow ranges with many ties, all equal, maximum at the last
// index, all negative, extremes only, a two-way tie at the maximum).
// Every output with out_valid is compared with the first index of the
// maximum (ties to the lower index) computed here in 64 bits, and out_v
// with the vector itself. out_valid must be in_valid of the previous edge,
// or 0 after an edge with rst high: each run also pulses its own reset for
// two cycles mid-stream while in_valid stays high.
// Prints "*-* All Finished *-*" on success, "FAIL ..." otherwise.
module ttfs_argmax_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_RESET(3)
    `TTFS_TB_VERDICT

    localparam integer RUNS = 9;
    wire [RUNS-1:0] done;
    wire [RUNS-1:0] fail;

    ttfs_argmax_tb_run #(.N(1), .VW(4), .CLS_W(1), .NV(300), .SEED(1))
        r0 (.clk(clk), .rst(rst), .done(done[0]), .fail(fail[0]));
    ttfs_argmax_tb_run #(.N(2), .VW(3), .CLS_W(1), .NV(1000), .SEED(2))
        r1 (.clk(clk), .rst(rst), .done(done[1]), .fail(fail[1]));
    ttfs_argmax_tb_run #(.N(3), .VW(1), .CLS_W(2), .NV(500), .SEED(3))
        r2 (.clk(clk), .rst(rst), .done(done[2]), .fail(fail[2]));
    ttfs_argmax_tb_run #(.N(5), .VW(8), .CLS_W(3), .NV(1500), .SEED(4))
        r3 (.clk(clk), .rst(rst), .done(done[3]), .fail(fail[3]));
    ttfs_argmax_tb_run #(.N(9), .VW(2), .CLS_W(4), .NV(1500), .SEED(5))
        r4 (.clk(clk), .rst(rst), .done(done[4]), .fail(fail[4]));
    ttfs_argmax_tb_run #(.N(10), .VW(3), .CLS_W(4), .NV(3000), .SEED(6))
        r5 (.clk(clk), .rst(rst), .done(done[5]), .fail(fail[5]));
    ttfs_argmax_tb_run #(.N(10), .VW(16), .CLS_W(4), .NV(3000), .SEED(7))
        r6 (.clk(clk), .rst(rst), .done(done[6]), .fail(fail[6]));
    ttfs_argmax_tb_run #(.N(16), .VW(3), .CLS_W(4), .NV(3000), .SEED(8))
        r7 (.clk(clk), .rst(rst), .done(done[7]), .fail(fail[7]));
    // CLS_W wider than needed: its top bit must stay 0.
    ttfs_argmax_tb_run #(.N(16), .VW(16), .CLS_W(5), .NV(3000), .SEED(9))
        r8 (.clk(clk), .rst(rst), .done(done[8]), .fail(fail[8]));

    integer cycles;
    initial begin
        @(negedge rst);
        cycles = 0;
        while (done != {RUNS{1'b1}} && cycles < 100000) begin
            @(posedge clk);
            cycles = cycles + 1;
        end
        if (done != {RUNS{1'b1}}) begin
            $display("FAIL ttfs_argmax_tb: timeout, done = %b", done);
            failed = 1'b1;
        end else if (fail != {RUNS{1'b0}}) begin
            $display("FAIL ttfs_argmax_tb: runs failed: %b", fail);
            failed = 1'b1;
        end else begin
            $display("ttfs_argmax_tb: %0d runs passed in %0d cycles", RUNS, cycles);
        end
        tb_finish;
    end

endmodule

// One parameter set: drive NV checked vectors (and the ones lost to the
// reset pulse), check every output against the reference.
module ttfs_argmax_tb_run #(
    parameter integer N = 10,
    parameter integer VW = 16,
    parameter integer CLS_W = 4,
    parameter integer NV = 1000,    // outputs to check
    parameter integer SEED = 1
) (
    input  wire clk,
    input  wire rst,
    output reg  done,
    output reg  fail
);

    localparam integer BITS = N * VW;
    localparam [VW:0] VMAXW = {1'b0, {VW{1'b1}}} >> 1;
    localparam [VW-1:0] VMAXB = VMAXW[VW-1:0];      // the largest value
    localparam [VW-1:0] VMINB = ~VMAXB;             // the smallest
    localparam [VW:0] ONEW = {{VW{1'b0}}, 1'b1};
    localparam [VW-1:0] ONEB = ONEW[VW-1:0];        // 1 (-1 when VW = 1)
    localparam integer NDIR = 8;                    // directed vectors
    localparam integer RST_AT = NV / 2;             // cycle of the reset pulse

    reg [31:0] rng;
    `TTFS_TB_XORSHIFT32

    // Value i of v, sign-extended.
    function signed [63:0] elem;
        input [BITS-1:0] v;
        input integer i;
        reg [VW-1:0] b;
        begin
            b = v[i*VW +: VW];
            elem = {{(64 - VW){b[VW-1]}}, b};
        end
    endfunction

    // The first index of the maximum.
    function integer ref_class;
        input [BITS-1:0] v;
        reg signed [63:0] best;
        integer i;
        begin
            best = elem(v, 0);
            ref_class = 0;
            for (i = 1; i < N; i = i + 1) begin
                if (elem(v, i) > best) begin
                    best = elem(v, i);
                    ref_class = i;
                end
            end
        end
    endfunction

    reg                 lrst;       // this run's reset pulse
    wire                dut_rst = rst | lrst;
    reg                 in_valid;
    reg  [BITS-1:0]     in_v;
    wire                out_valid;
    wire [CLS_W-1:0]    out_class;
    wire [BITS-1:0]     out_v;

    ttfs_argmax #(.N(N), .VW(VW), .CLS_W(CLS_W)) dut (
        .clk(clk), .rst(dut_rst), .in_valid(in_valid), .in_v(in_v),
        .out_valid(out_valid), .out_class(out_class), .out_v(out_v));

    // The state seen at the previous edge.
    reg                 seen;
    reg                 p_rst;
    reg                 p_valid;
    reg [BITS-1:0]      p_v;
    integer             p_class;
    reg [CLS_W-1:0]     want_class;
    reg                 want_valid;
    integer             n_checked;
    integer             n_driven;   // vectors driven with in_valid
    integer             cyc;        // cycles since the shared reset
    integer             errors;
    reg [31:0]          r;
    reg [31:0]          kind;
    reg [BITS-1:0]      v;
    reg [VW-1:0]        e;
    reg [VW-1:0]        base;
    integer             i;
    integer             ti;
    integer             tj;
    reg                 force_valid;

    initial begin
        done = 1'b0;
        fail = 1'b0;
        errors = 0;
        rng = 32'h9e3779b9 ^ SEED;
        lrst = 1'b0;
        in_valid = 1'b0;
        in_v = {BITS{1'b0}};
        seen = 1'b0;
        p_rst = 1'b0;
        p_valid = 1'b0;
        p_v = {BITS{1'b0}};
        p_class = 0;
        n_checked = 0;
        n_driven = 0;
        cyc = 0;
    end

    always @(posedge clk) begin
        // Check the outputs of the previous edge (sampled before this one).
        if (seen) begin
            want_valid = p_rst ? 1'b0 : p_valid;
            want_class = p_class[CLS_W-1:0];
            if (out_valid !== want_valid) begin
                errors = errors + 1;
                if (errors <= 10)
                    $display("FAIL ttfs_argmax N=%0d VW=%0d CLS_W=%0d: out_valid=%b want %b (in_valid=%b rst=%b at the previous edge)",
                             N, VW, CLS_W, out_valid, want_valid, p_valid, p_rst);
                fail <= 1'b1;
            end else if (want_valid) begin
                if (out_class !== want_class || out_v !== p_v) begin
                    errors = errors + 1;
                    if (errors <= 10)
                        $display("FAIL ttfs_argmax N=%0d VW=%0d CLS_W=%0d: in_v=%h out_class=%0d want %0d, out_v=%h",
                                 N, VW, CLS_W, p_v, out_class, want_class, out_v);
                    fail <= 1'b1;
                end
                n_checked = n_checked + 1;
                if (n_checked >= NV) done <= 1'b1;
            end
        end
        seen = 1'b1;
        p_rst = dut_rst;
        p_valid = in_valid;
        p_v = in_v;
        p_class = ref_class(in_v);

        // Drive the next vector.
        if (!rst) cyc = cyc + 1;
        lrst <= (cyc >= RST_AT && cyc < RST_AT + 2);
        // in_valid stays high around the pulse: the reset must win.
        force_valid = (cyc >= RST_AT - 2 && cyc < RST_AT + 4);
        r = xorshift32(rng);
        rng = r;
        if (n_checked < NV && !rst && (force_valid || r[2:0] != 3'd0)) begin
            rng = xorshift32(rng);
            kind = rng;
            rng = xorshift32(rng);
            base = rng[VW-1:0];
            rng = xorshift32(rng);
            ti = rng % N;
            rng = xorshift32(rng);
            tj = rng % N;
            v = {BITS{1'b0}};
            for (i = 0; i < N; i = i + 1) begin
                rng = xorshift32(rng);
                if (n_driven < NDIR) begin
                    case (n_driven)
                        0: e = {VW{1'b0}};                              // all 0
                        1: e = VMINB;                                   // all minimum
                        2: e = VMAXB;                                   // all maximum
                        3: e = (i == N - 1) ? VMAXB : VMINB;            // maximum last
                        4: e = ~i[VW-1:0] | VMINB;                      // -1 - i (mod): falling
                        5: e = i[VW-1:0] | VMINB;                       // min + i (mod): rising
                        6: e = (i == 0 || i == N - 1) ? VMAXB : rng[VW-1:0]; // first and last
                        default: e = (i == N - 1) ? ONEB : {VW{1'b0}};
                    endcase
                end else begin
                    case (kind[31:29])
                        3'd0, 3'd1: e = rng[VW-1:0];                    // full range
                        3'd2: e = base + (rng[0] ? ONEB : {VW{1'b0}});    // narrow: ties
                        3'd3: e = base;                                 // all equal
                        3'd4: e = (i == N - 1) ? VMAXB
                                  : (rng[VW-1:0] == VMAXB) ? VMAXB - 1'b1 : rng[VW-1:0]; // max last
                        3'd5: e = rng[VW-1:0] | VMINB;                  // all negative
                        3'd6: e = rng[0] ? VMAXB : VMINB;               // extremes
                        default: e = (i == ti || i == tj) ? VMAXB       // tie at the maximum
                                     : (rng[VW-1:0] == VMAXB) ? VMINB : rng[VW-1:0];
                    endcase
                end
                v[i*VW +: VW] = e;
            end
            in_valid <= 1'b1;
            in_v <= v;
            n_driven = n_driven + 1;
        end else begin
            // Garbage on in_v while in_valid is low.
            in_valid <= 1'b0;
            in_v <= {BITS{r[3]}};
        end
    end

endmodule
`default_nettype wire
