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
// Index: with ROW = 0 the pixel's position j (0 .. N_IN - 1); with ROW > 0
// (a convolution takes the events) the pixels are N_IN / (ROW*ROWS)
// channels of ROWS rows of ROW pixels, in that order, and the index packs
// the coordinates {c, y, x}: x in the low nbits(ROW) bits, y in the next
// nbits(ROWS), c above (nbits(n) = max(1, clog2(n))); IDX_W must then be
// the sum of the three.
//
// Pixel count: an image must have exactly N_IN pixels. If s_last comes
// early (fewer pixels), the image simply ends: missing pixels count as zero.
// Pixels past index N_IN - 1 are consumed but produce no events (their index
// would not fit the layer) until s_last. Either case sets `error`, which
// sticks until rst. (IDX_W must hold N_IN - 1.)
module ttfs_input_encoder #(
    parameter integer N_IN = 784,
    parameter integer QW = 8,
    parameter integer IDX_W = 10,
    parameter integer ROW = 0,
    parameter integer ROWS = 0
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

    function integer nbits;
        input integer n;
        begin
            nbits = (n > 1) ? $clog2(n) : 1;
        end
    endfunction

    function [IDX_W-1:0] to_idx;
        input integer x;
        integer i;
        begin
            to_idx = {IDX_W{1'b0}};
            for (i = 0; i < IDX_W && i < 31; i = i + 1) to_idx[i] = x[i];
        end
    endfunction

    localparam integer XB = nbits(ROW);
    localparam integer YB = nbits(ROWS);
    localparam integer CHANNELS = (ROW > 0 && ROWS > 0) ? N_IN / (ROW * ROWS) : 1;
    localparam integer CB = nbits(CHANNELS);
    // The last pixel's index: N_IN - 1, or packed {C - 1, ROWS - 1, ROW - 1}.
    localparam integer LAST_IDX_I = (ROW == 0) ? N_IN - 1
        : (((CHANNELS - 1) << (XB + YB)) | ((ROWS - 1) << XB) | (ROW - 1));
    localparam [IDX_W-1:0] LAST_IDX = to_idx(LAST_IDX_I);

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
        if (ROW != 0 && (ROW < 1 || ROWS < 1 || (N_IN % (ROW * ROWS)) != 0
                          || IDX_W != XB + YB + CB)) begin : g_check_row
`ifdef __ICARUS__
            localparam integer STOP = ttfs_input_encoder_ROW_and_ROWS_must_divide_N_IN_and_IDX_W_hold_the_packed_index;
`else
            $error("ttfs_input_encoder: ROW and ROWS must divide N_IN and IDX_W hold the packed index");
            ttfs_input_encoder_ROW_and_ROWS_must_divide_N_IN_and_IDX_W_hold_the_packed_index stop ();
`endif
        end
    endgenerate


    reg [IDX_W-1:0] idx;          // index of the next pixel
    reg             overrun;      // more than N_IN pixels in this image
    reg             pending_last; // out_* holds the final event; last beat next

    assign s_ready = !pending_last && (!out_valid || out_ready);

    wire take = s_valid && s_ready;
    wire nonzero = s_data != {QW{1'b0}};
    wire at_last_idx = idx == LAST_IDX;

    // The next pixel's index.
    wire [IDX_W-1:0] idx_next;
    generate
        if (ROW == 0) begin : g_flat
            assign idx_next = idx + 1'b1;
        end else begin : g_packed
            localparam [IDX_W-1:0] X_LAST_W = to_idx(ROW - 1);
            localparam [IDX_W-1:0] Y_LAST_W = to_idx(ROWS - 1);
            localparam [XB-1:0] X_LAST = X_LAST_W[XB-1:0];
            localparam [YB-1:0] Y_LAST = Y_LAST_W[YB-1:0];
            wire [XB-1:0] x = idx[XB-1:0];
            wire [YB-1:0] y = idx[XB +: YB];
            wire [IDX_W-XB-YB-1:0] c = idx[IDX_W-1:XB+YB];
            assign idx_next = (x != X_LAST) ? {c, y, x + 1'b1}
                            : (y != Y_LAST) ? {c, y + 1'b1, {XB{1'b0}}}
                            : {c + 1'b1, {YB{1'b0}}, {XB{1'b0}}};
        end
    endgenerate

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
                    idx <= idx_next;
                end
            end
        end
    end

endmodule
`default_nettype wire
