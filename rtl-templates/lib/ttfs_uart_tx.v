`default_nettype none
// ttfs_uart_tx: UART transmitter, 8N1, least significant bit first, for the
// board wrappers (results out). Takes a byte from the valid/ready stream
// when idle (in_ready = idle) and sends start bit, 8 data bits and stop
// bit, CLKS_PER_BIT cycles each (clock / baud, >= 1; the stop bit one cycle
// more). `tx` idles high and is a register. Reset: synchronous, active high.
module ttfs_uart_tx #(
    parameter integer CLKS_PER_BIT = 104
) (
    input  wire       clk,
    input  wire       rst,
    input  wire       in_valid,
    output wire       in_ready,
    input  wire [7:0] in_data,
    output reg        tx
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (CLKS_PER_BIT < 1) begin : g_check_clks_per_bit
`ifdef __ICARUS__
            localparam integer STOP = ttfs_uart_tx_CLKS_PER_BIT_must_be_1_or_more;
`else
            $error("ttfs_uart_tx: CLKS_PER_BIT must be 1 or more");
            ttfs_uart_tx_CLKS_PER_BIT_must_be_1_or_more stop ();
`endif
        end
    endgenerate

    localparam integer CW = $clog2(CLKS_PER_BIT + 1);
    localparam integer FULL_I = CLKS_PER_BIT - 1;
    localparam [CW-1:0] FULL = FULL_I[CW-1:0];

    reg [9:0]    frame; // stop, data[7:0], start: shifted out from bit 0
    reg [3:0]    left;  // bits still to send, 0 = idle
    reg [CW-1:0] count;

    // Idle once the stop bit has lasted its full time.
    assign in_ready = (left == 4'd0) && (count == {CW{1'b0}});

    always @(posedge clk) begin
        if (rst) begin
            tx <= 1'b1;
            frame <= 10'h3ff;
            left <= 4'd0;
            count <= {CW{1'b0}};
        end else if (count != {CW{1'b0}}) begin
            count <= count - 1'b1;
        end else if (left == 4'd0) begin
            tx <= 1'b1;
            if (in_valid) begin
                frame <= {1'b1, in_data, 1'b0};
                left <= 4'd10;
            end
        end else begin
            tx <= frame[0];
            frame <= {1'b1, frame[9:1]};
            left <= left - 1'b1;
            count <= FULL;
        end
    end

endmodule
`default_nettype wire
