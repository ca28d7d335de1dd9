`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_mac_lanes: three instances on the same
// random stimulus (xorshift32, fixed seed), each checked against W*q
// computed here, modulo 2^VW:
//   op    P = 3, WB = 5, QIN_W = 6, VW = 20, the `*` operator
//   sa    the same lanes as a shift-and-add, VW = 9 (narrower than a
//         product: truncation)
//   one   P = 2, WB = 4, QIN_W = 1 (the one-bit shift-and-add), VW = 7
//   late  op's lanes with IN_REG = 1: operands registered at edges with
//         en_in = 1 (random, independent of en), multiplied at en
// Products must change only at edges with en = 1 and hold otherwise.
// Prints "*-* All Finished *-*" on success, "FAIL ..." otherwise.
module ttfs_mac_lanes_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_RESET(2)
    `TTFS_TB_VERDICT
    `TTFS_TB_XORSHIFT32

    reg [31:0] rng;
    reg        en;
    reg        en_in;
    reg [14:0] w3;     // P = 3, WB = 5
    reg [5:0]  q6;
    reg [7:0]  w2;     // P = 2, WB = 4
    reg        q1;
    wire [59:0] p_op;
    wire [26:0] p_sa;
    wire [13:0] p_one;
    wire [59:0] p_late;

    ttfs_mac_lanes #(.P(3), .WB(5), .QIN_W(6), .VW(20), .MUL_OPERATOR(1)) op (
        .clk(clk), .en_in(1'b0), .en(en), .w_word(w3), .q(q6), .prod_v(p_op));
    ttfs_mac_lanes #(.P(3), .WB(5), .QIN_W(6), .VW(9), .MUL_OPERATOR(0)) sa (
        .clk(clk), .en_in(1'b0), .en(en), .w_word(w3), .q(q6), .prod_v(p_sa));
    ttfs_mac_lanes #(.P(2), .WB(4), .QIN_W(1), .VW(7), .MUL_OPERATOR(0)) one (
        .clk(clk), .en_in(1'b0), .en(en), .w_word(w2), .q(q1), .prod_v(p_one));
    ttfs_mac_lanes #(.P(3), .WB(5), .QIN_W(6), .VW(20), .MUL_OPERATOR(1), .IN_REG(1)) late (
        .clk(clk), .en_in(en_in), .en(en), .w_word(w3), .q(q6), .prod_v(p_late));

    // The expected products of the last enabled edge.
    integer e_op [0:2];
    integer e_one [0:1];
    integer e_late [0:2];
    reg [14:0] l_w3;   // late's registered operands
    reg [5:0]  l_q6;
    integer k, n, w;
    reg [19:0] want20;
    reg [8:0]  want9;
    reg [6:0]  want7;

    initial begin
        rng = 32'h1234abcd;
        en = 1'b0;
        en_in = 1'b0;
        w3 = 15'd0;
        q6 = 6'd0;
        w2 = 8'd0;
        q1 = 1'b0;
        n = 0;
    end

    always @(posedge clk) begin
        if (!rst) begin
            // check what the previous enabled edge captured
            if (n > 0) begin
                for (k = 0; k < 3; k = k + 1) begin
                    want20 = e_op[k];
                    want9 = e_op[k];
                    if (p_op[k*20 +: 20] !== want20 || p_sa[k*9 +: 9] !== want9) begin
                        $display("FAIL ttfs_mac_lanes: step %0d lane %0d: op %0d sa %0d, want %0d", n, k,
                                 $signed(p_op[k*20 +: 20]), $signed(p_sa[k*9 +: 9]), e_op[k]);
                        failed = 1'b1;
                    end
                end
                for (k = 0; k < 3; k = k + 1) begin
                    want20 = e_late[k];
                    if (p_late[k*20 +: 20] !== want20) begin
                        $display("FAIL ttfs_mac_lanes: step %0d late lane %0d: %0d, want %0d", n, k,
                                 $signed(p_late[k*20 +: 20]), e_late[k]);
                        failed = 1'b1;
                    end
                end
                for (k = 0; k < 2; k = k + 1) begin
                    want7 = e_one[k];
                    if (p_one[k*7 +: 7] !== want7) begin
                        $display("FAIL ttfs_mac_lanes: step %0d one-bit lane %0d: %0d, want %0d", n, k,
                                 $signed(p_one[k*7 +: 7]), e_one[k]);
                        failed = 1'b1;
                    end
                end
            end
            if (en) begin
                for (k = 0; k < 3; k = k + 1) begin
                    w = $signed(w3[k*5 +: 5]);
                    e_op[k] = w * q6;
                end
                for (k = 0; k < 2; k = k + 1) begin
                    w = $signed(w2[k*4 +: 4]);
                    e_one[k] = q1 ? w : 0;
                end
                for (k = 0; k < 3; k = k + 1) begin
                    w = $signed(l_w3[k*5 +: 5]);
                    e_late[k] = w * l_q6;
                end
                n = n + 1;
            end
            // late's operand registers take this edge's inputs after its
            // product took the previous ones
            if (en_in) begin
                l_w3 = w3;
                l_q6 = q6;
            end
            rng = xorshift32(rng);
            en <= rng[0] | rng[1];
            en_in <= rng[2] | rng[3];
            w3 <= rng[20:6];
            q6 <= rng[26:21];
            w2 <= rng[31:24];
            q1 <= rng[5];
            if (n == 400) tb_finish;
        end
    end

endmodule
`default_nettype wire
