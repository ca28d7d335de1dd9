`default_nettype none
// ttfs_input_encoder: pixel stream -> event stream.
//
// Input: one beat per input value q0 (unsigned, QW bits) in index order,
// s_last on the image's final pixel. Output: one event beat
// {out_last = 0, out_idx = j, out_q = q0} for each pixel j with q0 != 0, then
// one beat {out_last = 1, out_idx = 0, out_q = 0} after the pixel with s_last.
// An all-zero image gives a single last beat.
//
// Timing: registered output (1 cycle from the accepted pixel to its event).
// One pixel per cycle while out_ready is high; a nonzero pixel that carries
// s_last needs two output beats, so s_ready drops for one cycle after it.
// s_ready = !pending_last && (!out_valid || out_ready) (combinational in
// out_ready).
//
// Pixel count: an image must have exactly N_IN pixels. If s_last comes
// early (fewer pixels), the image simply ends: missing pixels count as zero.
// Pixels past index N_IN - 1 are consumed but produce no events (their index
// would not fit the layer) until s_last. Either case sets `error`, which
// sticks until rst. (IDX_W must hold N_IN - 1.)
module ttfs_input_encoder #(
    parameter integer N_IN = 784,
    parameter integer QW = 8,
    parameter integer IDX_W = 10
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             s_valid,
    output wire             s_ready,
    input  wire             s_last,
    input  wire [QW-1:0]    s_data,
    output reg              out_valid,
    input  wire             out_ready,
    output reg              out_last,
    output reg  [IDX_W-1:0] out_idx,
    output reg  [QW-1:0]    out_q,
    output reg              error
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (N_IN < 1) begin : g_check_n_in
`ifdef __ICARUS__
            localparam integer STOP = ttfs_input_encoder_N_IN_must_be_1_or_more;
`else
            $error("ttfs_input_encoder: N_IN must be 1 or more");
            ttfs_input_encoder_N_IN_must_be_1_or_more stop ();
`endif
        end
        if (QW < 1) begin : g_check_qw
`ifdef __ICARUS__
            localparam integer STOP = ttfs_input_encoder_QW_must_be_1_or_more;
`else
            $error("ttfs_input_encoder: QW must be 1 or more");
            ttfs_input_encoder_QW_must_be_1_or_more stop ();
`endif
        end
        if (IDX_W < 1 || IDX_W > 32 || ((N_IN - 1) >> IDX_W) != 0) begin : g_check_idx_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_input_encoder_IDX_W_must_be_1_to_32_and_hold_N_IN_minus_1;
`else
            $error("ttfs_input_encoder: IDX_W must be 1 to 32 and hold N_IN minus 1");
            ttfs_input_encoder_IDX_W_must_be_1_to_32_and_hold_N_IN_minus_1 stop ();
`endif
        end
    endgenerate

    localparam integer LAST_IDX_I = N_IN - 1;
    localparam [IDX_W-1:0] LAST_IDX = LAST_IDX_I[IDX_W-1:0];

    reg [IDX_W-1:0] idx;          // index of the next pixel
    reg             overrun;      // more than N_IN pixels in this image
    reg             pending_last; // out_* holds the final event; last beat next

    assign s_ready = !pending_last && (!out_valid || out_ready);

    wire take = s_valid && s_ready;
    wire nonzero = s_data != {QW{1'b0}};
    wire at_last_idx = idx == LAST_IDX;

    always @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
            out_last <= 1'b0;
            out_idx <= {IDX_W{1'b0}};
            out_q <= {QW{1'b0}};
            error <= 1'b0;
            idx <= {IDX_W{1'b0}};
            overrun <= 1'b0;
            pending_last <= 1'b0;
        end else begin
            if (out_valid && out_ready) out_valid <= 1'b0;
            if (pending_last) begin
                if (out_ready) begin
                    // out_valid is high here: the final event goes, last next.
                    out_valid <= 1'b1;
                    out_last <= 1'b1;
                    out_idx <= {IDX_W{1'b0}};
                    out_q <= {QW{1'b0}};
                    pending_last <= 1'b0;
                end
            end else if (take) begin
                if (nonzero && !overrun) begin
                    out_valid <= 1'b1;
                    out_last <= 1'b0;
                    out_idx <= idx;
                    out_q <= s_data;
                    pending_last <= s_last;
                end else if (s_last) begin
                    out_valid <= 1'b1;
                    out_last <= 1'b1;
                    out_idx <= {IDX_W{1'b0}};
                    out_q <= {QW{1'b0}};
                end
                if (s_last) begin
                    idx <= {IDX_W{1'b0}};
                    overrun <= 1'b0;
                    if (!at_last_idx || overrun) error <= 1'b1;
                end else if (at_last_idx || overrun) begin
                    overrun <= 1'b1;
                    if (overrun) error <= 1'b1;
                end else begin
                    idx <= idx + 1'b1;
                end
            end
        end
    end

endmodule
`default_nettype wire
