`default_nettype none
// ttfs_spike_queue: the spike queue between two stages, image-granular
// (store and forward). It holds event beats {last, idx, q} in a
// ttfs_event_fifo and shows the oldest beat on out_* only while a whole
// image (its `last` beat included) is inside. So the consumer, once it sees
// an image's first event, gets every event of that image on consecutive
// cycles, and its cycle count depends on the image's spike counts only;
// meanwhile the producer already fills in the next image (double buffering
// when the queue holds two images).
//
// Capacity: 2^ADDR_W + 1 beats. It must hold at least one whole image
// (its events plus the `last` beat), or the producer stalls forever on an
// image the consumer never sees; the generator sizes it for two images of
// the worst case.
// Streams: valid/ready (docs/hardware.md). in_ready = the FIFO's (a
// register); out_valid = FIFO head valid && a complete image inside.
// images: complete images inside (`last` beats pushed minus popped).
// Latency: an image's first event shows on out_* 1 cycle after its `last`
// beat is pushed (2 if the queue was empty: the FIFO's own latency).
// CUT_THROUGH = 1 drops the image gating: a beat shows on out_* as soon as
// the FIFO has it (2 cycles after it is pushed into an empty queue), so the
// consumer starts on an image while its producer is still sending it. The
// generator uses it between the input encoder and layer 0, whose events
// trickle in at pixel rate: layer 0 accumulates during the pixel stream
// instead of after it (the cycle model then follows each event's arrival).
// Reset: synchronous, active high; empties the queue.
module ttfs_spike_queue #(
    parameter integer IDX_W = 8,
    parameter integer Q_W = 8,
    parameter integer ADDR_W = 9,
    parameter integer CUT_THROUGH = 0
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             in_valid,
    output wire             in_ready,
    input  wire             in_last,
    input  wire [IDX_W-1:0] in_idx,
    input  wire [Q_W-1:0]   in_q,
    output wire             out_valid,
    input  wire             out_ready,
    output wire             out_last,
    output wire [IDX_W-1:0] out_idx,
    output wire [Q_W-1:0]   out_q,
    output reg  [ADDR_W:0]  images
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (IDX_W < 1) begin : g_check_idx_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_spike_queue_IDX_W_must_be_1_or_more;
`else
            $error("ttfs_spike_queue: IDX_W must be 1 or more");
            ttfs_spike_queue_IDX_W_must_be_1_or_more stop ();
`endif
        end
        if (Q_W < 1) begin : g_check_q_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_spike_queue_Q_W_must_be_1_or_more;
`else
            $error("ttfs_spike_queue: Q_W must be 1 or more");
            ttfs_spike_queue_Q_W_must_be_1_or_more stop ();
`endif
        end
        if (ADDR_W < 1 || ADDR_W > 30) begin : g_check_addr_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_spike_queue_ADDR_W_must_be_1_to_30;
`else
            $error("ttfs_spike_queue: ADDR_W must be 1 to 30");
            ttfs_spike_queue_ADDR_W_must_be_1_to_30 stop ();
`endif
        end
    endgenerate

    localparam integer WIDTH = 1 + IDX_W + Q_W;

    wire             head_valid;
    wire [WIDTH-1:0] head;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [ADDR_W:0]  count; // beats held; only `images` matters here
    /* verilator lint_on UNUSEDSIGNAL */

    wire complete = (CUT_THROUGH != 0) || (images != {(ADDR_W + 1){1'b0}});
    assign out_valid = head_valid && complete;
    assign {out_last, out_idx, out_q} = head;

    wire pushed_last = in_valid && in_ready && in_last;
    wire popped_last = out_valid && out_ready && out_last;

    ttfs_event_fifo #(.WIDTH(WIDTH), .ADDR_W(ADDR_W)) u_fifo (
        .clk(clk), .rst(rst),
        .in_valid(in_valid), .in_ready(in_ready), .in_data({in_last, in_idx, in_q}),
        .out_valid(head_valid), .out_ready(out_ready && complete), .out_data(head),
        .count(count));

    always @(posedge clk) begin
        if (rst) images <= {(ADDR_W + 1){1'b0}};
        else if (pushed_last && !popped_last) images <= images + 1'b1;
        else if (popped_last && !pushed_last) images <= images - 1'b1;
    end

endmodule
`default_nettype wire
