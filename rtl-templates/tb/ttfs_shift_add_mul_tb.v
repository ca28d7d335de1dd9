`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_shift_add_mul: four instances (AW/QW =
// 17/8 signed weights as in the 8-bit layers, 13/5 with a QW that is not a
// power of two, 6/1, and 10/8 where the product wraps modulo 2^AW), every
// q for a set of corner values of a (0, 1, -1, the extremes) and 2000
// random pairs (xorshift32, fixed seed); each product is compared with the
// `*` operator's, reduced modulo 2^AW.
module ttfs_shift_add_mul_tb;

    `TTFS_TB_XORSHIFT32
    `TTFS_TB_VERDICT
    integer errors;
    reg [31:0] rng;

    reg  [16:0] a0;
    reg  [7:0]  q0;
    wire [16:0] p0;
    reg  [12:0] a1;
    reg  [4:0]  q1;
    wire [12:0] p1;
    reg  [5:0]  a2;
    reg         q2;
    wire [5:0]  p2;
    reg  [9:0]  a3;
    reg  [7:0]  q3;
    wire [9:0]  p3;

    ttfs_shift_add_mul #(.AW(17), .QW(8)) u0 (.a(a0), .q(q0), .p(p0));
    ttfs_shift_add_mul #(.AW(13), .QW(5)) u1 (.a(a1), .q(q1), .p(p1));
    ttfs_shift_add_mul #(.AW(6), .QW(1)) u2 (.a(a2), .q(q2), .p(p2));
    ttfs_shift_add_mul #(.AW(10), .QW(8)) u3 (.a(a3), .q(q3), .p(p3));

    // Applies one operand pair to every instance and checks the products.
    task check;
        input [31:0] a;
        input [31:0] q;
        reg [63:0] full;
        begin
            a0 = a[16:0]; q0 = q[7:0];
            a1 = a[12:0]; q1 = q[4:0];
            a2 = a[5:0];  q2 = q[0];
            a3 = a[9:0];  q3 = q[7:0];
            #1;
            full = {{47{a0[16]}}, a0} * {56'd0, q0};
            if (p0 !== full[16:0]) begin errors = errors + 1; $display("FAIL 17x8: %0d * %0d gave %h", $signed(a0), q0, p0); end
            full = {{51{a1[12]}}, a1} * {59'd0, q1};
            if (p1 !== full[12:0]) begin errors = errors + 1; $display("FAIL 13x5: %0d * %0d gave %h", $signed(a1), q1, p1); end
            full = {{58{a2[5]}}, a2} * {63'd0, q2};
            if (p2 !== full[5:0]) begin errors = errors + 1; $display("FAIL 6x1: %0d * %0d gave %h", $signed(a2), q2, p2); end
            full = {{54{a3[9]}}, a3} * {56'd0, q3};
            if (p3 !== full[9:0]) begin errors = errors + 1; $display("FAIL 10x8: %0d * %0d gave %h", $signed(a3), q3, p3); end
        end
    endtask

    integer i;
    integer qi;
    reg [31:0] corner [0:5];
    initial begin
        errors = 0;
        rng = 32'h1234_5678;
        corner[0] = 32'h0000_0000;
        corner[1] = 32'h0000_0001;
        corner[2] = 32'hFFFF_FFFF;
        corner[3] = 32'h0000_007F;  // largest 8-bit weight
        corner[4] = 32'hFFFF_FF80;  // smallest 8-bit weight
        corner[5] = 32'h0000_FFFF;
        for (i = 0; i < 6; i = i + 1)
            for (qi = 0; qi < 256; qi = qi + 1) check(corner[i], qi);
        for (i = 0; i < 2000; i = i + 1) begin
            rng = xorshift32(rng);
            a0 = 0;
            check(rng, xorshift32(rng));
        end
        if (errors != 0) failed = 1'b1;
        if (failed) $display("FAIL: %0d wrong products", errors);
        else $display("ttfs_shift_add_mul_tb: all products match");
        tb_finish;
    end

endmodule
`default_nettype wire
