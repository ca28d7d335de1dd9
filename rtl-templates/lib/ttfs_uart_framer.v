`default_nettype none
// ttfs_uart_framer: the board wrappers' input framing. A byte stream (from
// ttfs_uart_rx) carries images as a header byte 0xA5 followed by N_IN pixel
// codes, one byte each (QW <= 8: the code's low QW bits; higher bits must be
// 0 and are dropped). Out comes the pixel stream of the accelerator
// (s_valid/s_ready/s_last/s_data). Bytes outside a frame other than 0xA5
// are skipped (so a host can resynchronise by sending N_IN + 1 zero bytes
// and then a frame). A pixel byte with bits above QW set raises `error`
// (sticky until rst).
// Streams: valid/ready; in_ready = out_ready while in a frame, 1 between
// frames. Reset: synchronous, active high.
module ttfs_uart_framer #(
    parameter integer N_IN = 64,
    parameter integer QW = 8
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          in_valid,
    output wire          in_ready,
    input  wire [7:0]    in_data,
    output wire          out_valid,
    input  wire          out_ready,
    output wire          out_last,
    output wire [QW-1:0] out_data,
    output reg           error
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (N_IN < 1) begin : g_check_n_in
`ifdef __ICARUS__
            localparam integer STOP = ttfs_uart_framer_N_IN_must_be_1_or_more;
`else
            $error("ttfs_uart_framer: N_IN must be 1 or more");
            ttfs_uart_framer_N_IN_must_be_1_or_more stop ();
`endif
        end
        if (QW < 1 || QW > 8) begin : g_check_qw
`ifdef __ICARUS__
            localparam integer STOP = ttfs_uart_framer_QW_must_be_1_to_8;
`else
            $error("ttfs_uart_framer: QW must be 1 to 8");
            ttfs_uart_framer_QW_must_be_1_to_8 stop ();
`endif
        end
    endgenerate

    localparam integer CW = $clog2(N_IN + 1);
    localparam integer LAST_I = N_IN - 1;
    localparam [CW-1:0] LAST = LAST_I[CW-1:0];

    reg          in_frame;
    reg [CW-1:0] index; // pixel number within the frame

    assign in_ready = in_frame ? out_ready : 1'b1;
    assign out_valid = in_frame && in_valid;
    assign out_last = (index == LAST);
    assign out_data = in_data[QW-1:0];

    generate
        if (QW < 8) begin : g_high
            wire high = |in_data[7:QW];
            always @(posedge clk) begin
                if (rst) error <= 1'b0;
                else if (out_valid && out_ready && high) error <= 1'b1;
            end
        end else begin : g_full
            always @(posedge clk) begin
                if (rst) error <= 1'b0;
            end
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            in_frame <= 1'b0;
            index <= {CW{1'b0}};
        end else if (!in_frame) begin
            if (in_valid && in_data == 8'hA5) begin
                in_frame <= 1'b1;
                index <= {CW{1'b0}};
            end
        end else if (in_valid && out_ready) begin
            if (out_last) in_frame <= 1'b0;
            index <= index + 1'b1;
        end
    end

endmodule
`default_nettype wire
