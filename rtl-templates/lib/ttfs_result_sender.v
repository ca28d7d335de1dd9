`default_nettype none
// ttfs_result_sender: the board wrappers' output framing. One result beat
// (class and N logits of VW bits, from ttfs_readout) becomes the bytes
//   0x5A, class, then each logit i = 0 .. N-1 as LB = ceil(VW / 8) bytes,
//   least significant first, two's complement sign-extended to 8*LB bits,
// sent on a valid/ready byte stream (to ttfs_uart_tx). The result is
// accepted (in_ready) in the cycle after its last byte has been taken:
// in_ready is a register, so the byte sink's ready never reaches the
// accelerator's pipeline combinationally (that chain once set the board's
// critical path). CLS_W <= 8.
// Reset: synchronous, active high.
module ttfs_result_sender #(
    parameter integer N = 10,
    parameter integer VW = 24,
    parameter integer CLS_W = 4
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              in_valid,
    output wire              in_ready,
    input  wire [CLS_W-1:0]  in_class,
    input  wire [N*VW-1:0]   in_logits,
    output reg               out_valid,
    input  wire              out_ready,
    output reg  [7:0]        out_data
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (N < 1) begin : g_check_n
`ifdef __ICARUS__
            localparam integer STOP = ttfs_result_sender_N_must_be_1_or_more;
`else
            $error("ttfs_result_sender: N must be 1 or more");
            ttfs_result_sender_N_must_be_1_or_more stop ();
`endif
        end
        if (VW < 1) begin : g_check_vw
`ifdef __ICARUS__
            localparam integer STOP = ttfs_result_sender_VW_must_be_1_or_more;
`else
            $error("ttfs_result_sender: VW must be 1 or more");
            ttfs_result_sender_VW_must_be_1_or_more stop ();
`endif
        end
        if (CLS_W < 1 || CLS_W > 8) begin : g_check_cls_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_result_sender_CLS_W_must_be_1_to_8;
`else
            $error("ttfs_result_sender: CLS_W must be 1 to 8");
            ttfs_result_sender_CLS_W_must_be_1_to_8 stop ();
`endif
        end
    endgenerate

    localparam integer LB = (VW + 7) / 8;
    localparam integer BYTES = 2 + N * LB;
    localparam integer BW = $clog2(BYTES + 1);
    localparam integer LAST_I = BYTES - 1;
    localparam [BW-1:0] LAST = LAST_I[BW-1:0];

    // All logits sign-extended to whole bytes, logit i at [i*8*LB +: 8*LB].
    wire [N*8*LB-1:0] wide;
    genvar i;
    generate
        for (i = 0; i < N; i = i + 1) begin : g_ext
            wire [VW-1:0] v = in_logits[i*VW +: VW];
            if (8 * LB > VW) begin : g_sx
                assign wide[i*8*LB +: 8*LB] = {{(8 * LB - VW){v[VW-1]}}, v};
            end else begin : g_eq
                assign wide[i*8*LB +: 8*LB] = v;
            end
        end
    endgenerate

    // The message as bytes, byte k at [8*k +: 8].
    wire [8*BYTES-1:0] message;
    wire [7:0] class_byte;
    generate
        if (CLS_W < 8) begin : g_cls
            assign class_byte = {{(8 - CLS_W){1'b0}}, in_class};
        end else begin : g_cls8
            assign class_byte = in_class;
        end
    endgenerate
    assign message = {wide, class_byte, 8'h5A};

    reg [BW-1:0] k; // next byte
    reg          busy;
    reg          ack; // the result's last byte was taken: accept it now

    assign in_ready = ack;

    always @(posedge clk) begin
        if (rst) begin
            busy <= 1'b0;
            ack <= 1'b0;
            k <= {BW{1'b0}};
            out_valid <= 1'b0;
            out_data <= 8'd0;
        end else if (ack) begin
            // The result leaves the source this cycle; the next one (if any)
            // is looked at from the next cycle on.
            ack <= 1'b0;
            busy <= 1'b0;
        end else if (!busy) begin
            // Start a message: its first byte goes out at once.
            if (in_valid) begin
                busy <= 1'b1;
                out_valid <= 1'b1;
                out_data <= message[7:0];
                k <= {BW{1'b0}};
            end
        end else if (out_ready) begin
            if (k == LAST) begin
                ack <= 1'b1;
                out_valid <= 1'b0;
            end else begin
                k <= k + 1'b1;
                out_data <= message[8*(k + 1'b1) +: 8];
            end
        end
    end

endmodule
`default_nettype wire
