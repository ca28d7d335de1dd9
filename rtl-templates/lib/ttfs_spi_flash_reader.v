`default_nettype none
// ttfs_spi_flash_reader: reads BYTES bytes from the SPI configuration flash
// at power-up, from byte address START (0 .. 2^24 - 1), and sends them as a
// byte stream (for ttfs_weight_loader: SPRAM weights that the bitstream
// cannot hold). BYTES, WAKE_CYCLES >= 0.
//
// After reset: release from deep power-down (command 0xAB; iCE40 boards may
// leave the flash asleep after configuration), wait WAKE_CYCLES (the
// flash's tRES1, 3 us on common parts: 72 cycles at 24 MHz), then one READ
// (0x03) with a 24-bit address, clocking in BYTES bytes, most significant
// bit first, and raise flash_csb again. `done` rises once the last byte is
// taken by the consumer.
//
// SPI mode 0 at clk/2: flash_sck idles low; flash_mosi changes while
// flash_sck is low and the flash samples it on the rising edge; the flash
// drives flash_miso after the falling edge and this block samples it at its
// clock edge that raises flash_sck. While the output byte waits
// (out_valid && !out_ready) and the next one is complete, flash_sck stays
// low (SPI allows pausing the clock).
// Streams: valid/ready (docs/hardware.md). Reset: synchronous, active high.
module ttfs_spi_flash_reader #(
    parameter integer START = 0,
    parameter integer BYTES = 16,
    parameter integer WAKE_CYCLES = 72
) (
    input  wire       clk,
    input  wire       rst,
    output reg        flash_csb,
    output reg        flash_sck,
    output reg        flash_mosi,
    input  wire       flash_miso,
    output reg        out_valid,
    input  wire       out_ready,
    output reg  [7:0] out_data,
    output reg        done
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (START < 0 || START > 16777215) begin : g_check_start
`ifdef __ICARUS__
            localparam integer STOP = ttfs_spi_flash_reader_START_must_be_0_to_16777215;
`else
            $error("ttfs_spi_flash_reader: START must be 0 to 16777215");
            ttfs_spi_flash_reader_START_must_be_0_to_16777215 stop ();
`endif
        end
        if (BYTES < 0) begin : g_check_bytes
`ifdef __ICARUS__
            localparam integer STOP = ttfs_spi_flash_reader_BYTES_must_be_0_or_more;
`else
            $error("ttfs_spi_flash_reader: BYTES must be 0 or more");
            ttfs_spi_flash_reader_BYTES_must_be_0_or_more stop ();
`endif
        end
        if (WAKE_CYCLES < 0) begin : g_check_wake_cycles
`ifdef __ICARUS__
            localparam integer STOP = ttfs_spi_flash_reader_WAKE_CYCLES_must_be_0_or_more;
`else
            $error("ttfs_spi_flash_reader: WAKE_CYCLES must be 0 or more");
            ttfs_spi_flash_reader_WAKE_CYCLES_must_be_0_or_more stop ();
`endif
        end
    endgenerate

    localparam [2:0] S_WAKE_CMD = 3'd0; // shifting 0xAB
    localparam [2:0] S_WAKE_GAP = 3'd1; // csb high, waiting tRES1
    localparam [2:0] S_READ_CMD = 3'd2; // shifting 0x03 and the address
    localparam [2:0] S_DATA = 3'd3;     // clocking in bytes
    localparam [2:0] S_DONE = 3'd4;

    localparam integer START_I = START;
    localparam [31:0] READ_WORD = {8'h03, START_I[23:0]};
    // Wide enough for both counts (a 32-bit counter would lengthen the
    // compare and decrement paths for nothing).
    localparam integer CNT_MAX = (BYTES > WAKE_CYCLES) ? BYTES : WAKE_CYCLES;
    localparam integer CNT_W = $clog2(CNT_MAX + 1) + 1;

    // A non-negative integer (< 2^31) at CNT_W bits.
    function [CNT_W-1:0] to_cnt;
        input integer x;
        integer i;
        begin
            to_cnt = {CNT_W{1'b0}};
            for (i = 0; i < CNT_W && i < 31; i = i + 1) to_cnt[i] = x[i];
        end
    endfunction

    localparam [CNT_W-1:0] WAKE_CNT = to_cnt(WAKE_CYCLES);
    localparam [CNT_W-1:0] BYTES_CNT = to_cnt(BYTES);
    localparam [CNT_W-1:0] ONE_CNT = to_cnt(1);

    reg [2:0]       state;
    reg [31:0]      shift;   // bits to send, MSB first
    reg [5:0]       nbits;   // bits left in the current command
    reg [CNT_W-1:0] count;   // gap cycles, or bytes left to read
    reg [7:0]       rx;      // byte being clocked in
    reg [2:0]       rbits;   // bits of it so far
    reg             byte_full; // rx holds a whole byte not yet passed on

    // The byte register can take a new byte when empty or being taken.
    wire out_free = !out_valid || out_ready;

    always @(posedge clk) begin
        if (rst) begin
            state <= S_WAKE_CMD;
            flash_csb <= 1'b1;
            flash_sck <= 1'b0;
            flash_mosi <= 1'b0;
            shift <= {8'hAB, 24'd0};
            nbits <= 6'd8;
            count <= {CNT_W{1'b0}};
            rx <= 8'd0;
            rbits <= 3'd0;
            byte_full <= 1'b0;
            out_valid <= 1'b0;
            out_data <= 8'd0;
            done <= 1'b0;
        end else begin
            if (out_valid && out_ready) out_valid <= 1'b0;
            case (state)
                S_WAKE_CMD, S_READ_CMD: begin
                    if (flash_csb) begin
                        // Select, and put the first bit out while SCK is low.
                        flash_csb <= 1'b0;
                        flash_mosi <= shift[31];
                        shift <= {shift[30:0], 1'b0};
                    end else if (flash_sck) begin
                        flash_sck <= 1'b0;
                        if (nbits != 6'd0) begin
                            flash_mosi <= shift[31];
                            shift <= {shift[30:0], 1'b0};
                        end
                    end else if (nbits != 6'd0) begin
                        flash_sck <= 1'b1;              // the flash samples MOSI
                        nbits <= nbits - 1'b1;
                    end else if (state == S_WAKE_CMD) begin
                        // All bits sent and SCK low: end the command.
                        flash_csb <= 1'b1;
                        count <= WAKE_CNT;
                        state <= S_WAKE_GAP;
                    end else begin
                        count <= BYTES_CNT;
                        state <= (BYTES == 0) ? S_DONE : S_DATA;
                    end
                end
                S_WAKE_GAP: begin
                    if (count == {CNT_W{1'b0}}) begin
                        shift <= READ_WORD;
                        nbits <= 6'd32;
                        state <= S_READ_CMD;
                    end else begin
                        count <= count - 1'b1;
                    end
                end
                S_DATA: begin
                    // Pass a complete byte on as soon as the output is free.
                    if (byte_full && out_free) begin
                        flash_sck <= 1'b0;
                        out_valid <= 1'b1;
                        out_data <= rx;
                        byte_full <= 1'b0;
                        count <= count - 1'b1;
                        if (count == ONE_CNT) state <= S_DONE;
                    end else if (!byte_full) begin
                        if (!flash_sck) begin
                            flash_sck <= 1'b1;
                            rx <= {rx[6:0], flash_miso};
                            rbits <= rbits + 1'b1;
                            if (rbits == 3'd7) byte_full <= 1'b1;
                        end else begin
                            flash_sck <= 1'b0;
                        end
                    end else begin
                        flash_sck <= 1'b0; // paused: the byte waits
                    end
                end
                default: begin
                    // SCK went low with the last byte; release the flash.
                    flash_csb <= 1'b1;
                    if (!out_valid || out_ready) done <= 1'b1;
                end
            endcase
        end
    end

endmodule
`default_nettype wire
