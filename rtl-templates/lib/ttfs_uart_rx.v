`default_nettype none
// ttfs_uart_rx: UART receiver, 8 data bits, no parity, 1 stop bit (8N1),
// least significant bit first, for the board wrappers (image bytes in).
//
// `rx` is asynchronous: two flip-flops synchronise it. A start bit is a
// falling edge; each bit is sampled in the middle of its CLKS_PER_BIT
// cycles (CLKS_PER_BIT = clock / baud, >= 4). A start bit that is high again
// at its middle is a glitch and is ignored. A stop bit that reads 0 drops
// the byte and sets `frame_error` (sticky until rst).
// Output: a valid/ready byte stream with a one-byte buffer; a byte that
// completes while the buffer is still full is dropped and sets `overrun`
// (sticky). Reset: synchronous, active high.
module ttfs_uart_rx #(
    parameter integer CLKS_PER_BIT = 104
) (
    input  wire       clk,
    input  wire       rst,
    input  wire       rx,
    output reg        out_valid,
    input  wire       out_ready,
    output reg  [7:0] out_data,
    output reg        frame_error,
    output reg        overrun
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (CLKS_PER_BIT < 4) begin : g_check_clks_per_bit
`ifdef __ICARUS__
            localparam integer STOP = ttfs_uart_rx_CLKS_PER_BIT_must_be_4_or_more;
`else
            $error("ttfs_uart_rx: CLKS_PER_BIT must be 4 or more");
            ttfs_uart_rx_CLKS_PER_BIT_must_be_4_or_more stop ();
`endif
        end
    endgenerate

    localparam integer CW = $clog2(CLKS_PER_BIT + 1);
    localparam integer HALF_I = CLKS_PER_BIT / 2;
    localparam integer FULL_I = CLKS_PER_BIT - 1;
    localparam [CW-1:0] HALF = HALF_I[CW-1:0];
    localparam [CW-1:0] FULL = FULL_I[CW-1:0];

    localparam [1:0] S_IDLE = 2'd0;
    localparam [1:0] S_START = 2'd1;
    localparam [1:0] S_DATA = 2'd2;
    localparam [1:0] S_STOP = 2'd3;

    reg [1:0]    sync;   // rx through two flip-flops (sync[1] is safe to use)
    reg [1:0]    state;
    reg [CW-1:0] count;  // cycles to the next sample point
    reg [2:0]    nbit;
    reg [7:0]    shift;

    wire line = sync[1];

    always @(posedge clk) begin
        if (rst) begin
            sync <= 2'b11;
            state <= S_IDLE;
            count <= {CW{1'b0}};
            nbit <= 3'd0;
            shift <= 8'd0;
            out_valid <= 1'b0;
            out_data <= 8'd0;
            frame_error <= 1'b0;
            overrun <= 1'b0;
        end else begin
            sync <= {sync[0], rx};
            if (out_valid && out_ready) out_valid <= 1'b0;
            case (state)
                S_IDLE: begin
                    if (!line) begin
                        state <= S_START;
                        count <= HALF;
                    end
                end
                S_START: begin
                    if (count != {CW{1'b0}}) begin
                        count <= count - 1'b1;
                    end else if (line) begin
                        state <= S_IDLE; // a glitch, not a start bit
                    end else begin
                        state <= S_DATA;
                        count <= FULL;
                        nbit <= 3'd0;
                    end
                end
                S_DATA: begin
                    if (count != {CW{1'b0}}) begin
                        count <= count - 1'b1;
                    end else begin
                        shift <= {line, shift[7:1]};
                        count <= FULL;
                        nbit <= nbit + 1'b1;
                        if (nbit == 3'd7) state <= S_STOP;
                    end
                end
                default: begin
                    if (count != {CW{1'b0}}) begin
                        count <= count - 1'b1;
                    end else begin
                        state <= S_IDLE;
                        if (!line) begin
                            frame_error <= 1'b1;
                        end else if (out_valid && !out_ready) begin
                            overrun <= 1'b1;
                        end else begin
                            out_valid <= 1'b1;
                            out_data <= shift;
                        end
                    end
                end
            endcase
        end
    end

endmodule
`default_nettype wire
