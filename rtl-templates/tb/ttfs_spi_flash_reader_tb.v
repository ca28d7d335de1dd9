`default_nettype none
`include "ttfs_tb.vh"
// Self-checking test bench for ttfs_spi_flash_reader against a behavioural
// SPI flash (sim/ttfs_spi_flash_model.v) (mode 0: samples MOSI on SCK rising, drives MISO after SCK
// falling; commands 0xAB release from deep power-down, 0x03 read; it starts
// asleep, and flags a read while asleep or a select before its wake-up time
// has passed).
// Two readers: 300 bytes from address 0x012345 with a consumer whose ready is
// random (xorshift32, fixed seed), and 5 bytes from address 0 with ready
// always high. Checks: every byte equals the flash's, in order; `done` rises
// only after the last byte is taken; chip select never changes while SCK is
// high; the flash never sees a read while asleep; chip select is released
// at the end.
module ttfs_spi_flash_reader_tb;

    `TTFS_TB_CLOCK
    `TTFS_TB_RESET(4)
    `TTFS_TB_XORSHIFT32
    `TTFS_TB_VERDICT

    localparam integer WAKE = 20;
    integer cycle;
    reg [1:0] finished;
    initial begin
        cycle = 0;
        finished = 2'b00;
    end
    always @(posedge clk) begin
        cycle = cycle + 1;
        if (cycle > 100000) begin
            $display("FAIL ttfs_spi_flash_reader: timeout");
            failed = 1'b1;
            $finish;
        end
        if (finished == 2'b11) begin
            tb_finish;
        end
    end

    genvar c;
    generate
        for (c = 0; c < 2; c = c + 1) begin : g_run
            localparam integer START = (c == 0) ? 24'h012345 : 0;
            localparam integer BYTES = (c == 0) ? 300 : 5;
            wire       csb, sck, mosi, miso, out_valid, done;
            wire [7:0] out_data;
            reg        out_ready;
            reg [31:0] rng;
            integer    got;

            ttfs_spi_flash_reader #(.START(START), .BYTES(BYTES), .WAKE_CYCLES(WAKE)) dut (
                .clk(clk), .rst(rst),
                .flash_csb(csb), .flash_sck(sck), .flash_mosi(mosi), .flash_miso(miso),
                .out_valid(out_valid), .out_ready(out_ready), .out_data(out_data), .done(done));

            ttfs_spi_flash_model #(.WAKE_CYCLES(WAKE), .BASE(0), .BITS(16)) flash (
                .clk(clk), .csb(csb), .sck(sck), .mosi(mosi), .miso(miso));

            reg prev_sck, prev_csb;
            initial begin
                rng = 32'h2468_ACE1 + c;
                out_ready = 1'b0;
                got = 0;
                prev_sck = 1'b0;
                prev_csb = 1'b1;
            end
            always @(posedge clk) begin
                if (!rst && !finished[c]) begin
                    if (csb !== prev_csb && (sck || prev_sck)) begin
                        $display("FAIL ttfs_spi_flash_reader %0d: chip select changed while SCK was high", c);
                        failed = 1'b1;
                    end
                    prev_sck = sck;
                    prev_csb = csb;
                    if (flash.read_while_asleep) begin
                        $display("FAIL ttfs_spi_flash_reader %0d: read before the flash woke up", c);
                        failed = 1'b1;
                    end
                    if (done && got != BYTES) begin
                        $display("FAIL ttfs_spi_flash_reader %0d: done after %0d of %0d bytes", c, got, BYTES);
                        failed = 1'b1;
                    end
                    if (out_valid && out_ready) begin
                        if (out_data !== flash.mem[(START + got) % 65536]) begin
                            $display("FAIL ttfs_spi_flash_reader %0d: byte %0d is %h, flash holds %h",
                                     c, got, out_data, flash.mem[(START + got) % 65536]);
                            failed = 1'b1;
                        end
                        got = got + 1;
                    end
                    rng = xorshift32(rng);
                    out_ready <= (c == 1) || (rng[1:0] != 2'd0);
                    if (done) begin
                        if (!csb) begin
                            $display("FAIL ttfs_spi_flash_reader %0d: chip select still low after done", c);
                            failed = 1'b1;
                        end
                        $display("ttfs_spi_flash_reader_tb %0d: %0d bytes from %h", c, got, START);
                        finished[c] <= 1'b1;
                    end
                end
            end
        end
    endgenerate

endmodule

`default_nettype wire
