`default_nettype none
// ttfs_spi_flash_model: behavioural SPI NOR flash for test benches (mode 0:
// samples MOSI on SCK rising, drives MISO after SCK falling). Commands:
// 0xAB release from deep power-down, 0x03 read (24-bit address, then bytes
// until chip select rises). It starts asleep; `read_while_asleep` flags a
// read while asleep or a select before WAKE_CYCLES system clocks have passed
// since the wake-up command. It holds 2^BITS bytes from byte address BASE
// (addresses wrap inside that window), loaded from INIT_FILE ($readmemh,
// one byte per line) or, without one, a fixed xorshift pattern.
// A behavioural model: blocking assignments in clocked processes on purpose;
// read_while_asleep is for the bench to read hierarchically.
/* verilator lint_off BLKSEQ */
/* verilator lint_off UNUSEDSIGNAL */
module ttfs_spi_flash_model #(
    parameter integer WAKE_CYCLES = 72,
    parameter integer BASE = 0,
    parameter integer BITS = 16,
    parameter INIT_FILE = ""
) (
    input  wire clk, // counts the wake-up time only
    input  wire csb,
    input  wire sck,
    input  wire mosi,
    output reg  miso
);
    localparam integer SIZE = 1 << BITS;
    reg [7:0]  mem [0:SIZE-1];
    reg [7:0]  cmd;
    reg [23:0] addr;
    reg [7:0]  out_byte;
    integer    bits, i, wake_count;
    reg        awake, waking, read_while_asleep;
    reg [31:0] r;

    function [7:0] at;
        input [23:0] a;
        integer offset;
        begin
            offset = $signed({8'd0, a} - BASE); // the same bits, as the integer they are
            at = mem[offset & (SIZE - 1)];
        end
    endfunction

    initial begin
        if (INIT_FILE != "") begin
            for (i = 0; i < SIZE; i = i + 1) mem[i] = 8'hFF;
            $readmemh(INIT_FILE, mem);
        end else begin
            r = 32'h1357_9BDF;
            for (i = 0; i < SIZE; i = i + 1) begin
                r = r ^ (r << 13);
                r = r ^ (r >> 17);
                r = r ^ (r << 5);
                mem[i] = r[7:0];
            end
        end
        awake = 1'b0; waking = 1'b0; wake_count = 0; read_while_asleep = 1'b0;
        bits = 0; cmd = 8'd0; addr = 24'd0; out_byte = 8'd0; miso = 1'b0;
    end

    // Edge-triggered like a real part: rising SCK samples MOSI, falling SCK
    // shifts the next bit out on MISO (valid well before the master's next
    // clock edge). Only the wake-up time is counted in system clocks.
    always @(posedge clk) begin
        if (waking) begin
            wake_count = wake_count + 1;
            if (wake_count >= WAKE_CYCLES) begin
                awake = 1'b1;
                waking = 1'b0;
            end
        end
    end

    always @(negedge csb) begin
        if (waking) read_while_asleep = 1'b1; // selected again before tRES1
        bits = 0;
        cmd = 8'd0;
    end

    always @(posedge csb) begin
        if (cmd == 8'hAB && bits >= 8) begin
            waking = 1'b1;
            wake_count = 0;
        end
    end

    always @(posedge sck) begin
        if (!csb) begin
            if (bits < 8) cmd = {cmd[6:0], mosi};
            else if (bits < 32) addr = {addr[22:0], mosi};
            bits = bits + 1;
            if (bits == 8 && cmd == 8'h03 && !awake) read_while_asleep = 1'b1;
            if (bits == 32 && cmd == 8'h03) out_byte = at(addr);
            if (bits > 32 && cmd == 8'h03 && (bits - 32) % 8 == 0) begin
                addr = addr + 1'b1;
                out_byte = at(addr);
            end
        end
    end

    always @(negedge sck) begin
        if (!csb && bits >= 32 && cmd == 8'h03) begin
            miso = out_byte[7];
            out_byte = {out_byte[6:0], 1'b0};
        end
    end
endmodule
/* verilator lint_on UNUSEDSIGNAL */
/* verilator lint_on BLKSEQ */
`default_nettype wire
