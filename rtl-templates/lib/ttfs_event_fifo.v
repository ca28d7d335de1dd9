`default_nettype none
// ttfs_event_fifo: synchronous first-word-fall-through FIFO (the spike queue
// between layers; it carries packed event beats {last, idx, q}).
//
// Storage: a 2^ADDR_W x WIDTH RAM with registered read (block RAM on iCE40).
// The RAM's own output register is the FIFO head: out_data comes straight
// from it, out_valid is high whenever a word sits there (first word fall
// through), and the register is only reloaded (RAM read enable) when it is
// empty or being popped, so it holds while out_valid && !out_ready.
//
// Capacity: 2^ADDR_W words in the RAM plus 1 in the head register.
// in_ready = RAM not full (a register, independent of out_ready).
// Throughput: one beat in and one beat out per cycle, simultaneously, as long
// as the RAM is not full (when it is full, in_ready drops for the one cycle
// after a pop; this keeps the RAM free of same-address read/write).
// Latency: a beat written into an empty FIFO shows on out_* 2 cycles later.
// count: words held (RAM + head), 0 .. 2^ADDR_W + 1.
// Combinational paths: out_ready -> RAM read enable (head reload); none to
// in_ready. WIDTH >= 1, ADDR_W 1 .. 30.
// Reset (rst, synchronous, active high) empties the FIFO.
module ttfs_event_fifo #(
    parameter integer WIDTH = 16,
    parameter integer ADDR_W = 9
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              in_valid,
    output wire              in_ready,
    input  wire [WIDTH-1:0]  in_data,
    output wire              out_valid,
    input  wire              out_ready,
    output wire [WIDTH-1:0]  out_data,
    output wire [ADDR_W:0]   count
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (WIDTH < 1) begin : g_check_width
`ifdef __ICARUS__
            localparam integer STOP = ttfs_event_fifo_WIDTH_must_be_1_or_more;
`else
            $error("ttfs_event_fifo: WIDTH must be 1 or more");
            ttfs_event_fifo_WIDTH_must_be_1_or_more stop ();
`endif
        end
        if (ADDR_W < 1 || ADDR_W > 30) begin : g_check_addr_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_event_fifo_ADDR_W_must_be_1_to_30;
`else
            $error("ttfs_event_fifo: ADDR_W must be 1 to 30");
            ttfs_event_fifo_ADDR_W_must_be_1_to_30 stop ();
`endif
        end
    endgenerate

    localparam [ADDR_W:0] DEPTH = {1'b1, {ADDR_W{1'b0}}};

    reg [WIDTH-1:0]  mem [0:(1 << ADDR_W) - 1];
    reg [ADDR_W-1:0] wr_ptr;
    reg [ADDR_W-1:0] rd_ptr;
    reg [ADDR_W:0]   ram_cnt;   // words in the RAM, not yet read out
    reg              ram_full;  // ram_cnt == DEPTH
    reg              ram_empty; // ram_cnt == 0
    reg [WIDTH-1:0]  head;      // RAM output register
    reg              head_valid;

    wire push = in_valid && !ram_full;
    wire pop = head_valid && out_ready;
    wire rd_en = !ram_empty && (!head_valid || out_ready);

    assign in_ready = !ram_full;
    assign out_valid = head_valid;
    assign out_data = head;
    assign count = ram_cnt + {{ADDR_W{1'b0}}, head_valid};

    reg [ADDR_W:0] ram_cnt_next;
    always @(*) begin
        ram_cnt_next = ram_cnt;
        if (push && !rd_en) ram_cnt_next = ram_cnt + 1'b1;
        else if (!push && rd_en) ram_cnt_next = ram_cnt - 1'b1;
    end

    always @(posedge clk) begin
        if (push) mem[wr_ptr] <= in_data;
    end

    always @(posedge clk) begin
        if (rd_en) head <= mem[rd_ptr];
    end

    always @(posedge clk) begin
        if (rst) begin
            wr_ptr <= {ADDR_W{1'b0}};
            rd_ptr <= {ADDR_W{1'b0}};
            ram_cnt <= {(ADDR_W + 1){1'b0}};
            ram_full <= 1'b0;
            ram_empty <= 1'b1;
            head_valid <= 1'b0;
        end else begin
            if (push) wr_ptr <= wr_ptr + 1'b1;
            if (rd_en) rd_ptr <= rd_ptr + 1'b1;
            ram_cnt <= ram_cnt_next;
            ram_full <= ram_cnt_next == DEPTH;
            ram_empty <= ram_cnt_next == {(ADDR_W + 1){1'b0}};
            if (rd_en) head_valid <= 1'b1;
            else if (pop) head_valid <= 1'b0;
        end
    end

endmodule
`default_nettype wire
