`default_nettype none
// ttfs_record_framer: the record board wrappers' input framing (ttfs-files:
// a record of key-value pairs in, for ttfs_files_encoder). A byte stream
// (from ttfs_uart_rx) carries each record as a header byte 0xA6 followed
// by its pairs, 5 bytes each:
//   byte 0       {last, key[6:0]}: bit 7 set on the record's final pair,
//                bits 6..0 the key index (< 2^KEY_W);
//   bytes 1..4   the 32-bit token code, most significant byte first.
// A record has one pair at least (a record of missing values only is one
// pair {k, 0} with `last`; ttfs_files_encoder fills in the keys a record
// does not send). Keys of 128 and more cannot be framed (KEY_W <= 7).
// Out comes the record stream of the accelerator's `<top>_records`
// (out_valid/out_ready/out_last/out_key/out_code: one beat per pair).
// Bytes outside a record other than 0xA6 are skipped; inside a record every
// byte is data (0xA6 included). After a lost byte the host resynchronises
// by sending ten 0x80 bytes (they end any record in progress: its pairs,
// and its result, are garbage) and then a record.
// Errors: a pair with key bits above KEY_W set raises `error` (sticky until
// rst) and still goes out, with its key cut to KEY_W bits, so that every
// record sent gives one record out (and one reply).
// Timing: the final code byte goes out combinationally (out_valid =
// in_valid at byte 4, out_code's low byte = in_data), like
// ttfs_uart_framer; bytes 0..3 are registered. The block adds no cycle:
// a pair is offered in the cycle its last byte is.
// Streams: valid/ready; in_ready = out_ready at a pair's byte 4, else 1.
// Reset: synchronous, active high; drops the record in progress.
// Parameters: KEY_W key bits, 1 to 7.
// Resources (Yosys 0.23 synth_ice40, KEY_W 4, the block alone): 20 LUT4s,
// 34 flip-flops.
module ttfs_record_framer #(
    parameter integer KEY_W = 4
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             in_valid,
    output wire             in_ready,
    input  wire [7:0]       in_data,
    output wire             out_valid,
    input  wire             out_ready,
    output wire             out_last,
    output wire [KEY_W-1:0] out_key,
    output wire [31:0]      out_code,
    output reg              error
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (KEY_W < 1 || KEY_W > 7) begin : g_check_key_w
`ifdef __ICARUS__
            localparam integer STOP = ttfs_record_framer_KEY_W_must_be_1_to_7;
`else
            $error("ttfs_record_framer: KEY_W must be 1 to 7");
            ttfs_record_framer_KEY_W_must_be_1_to_7 stop ();
`endif
        end
    endgenerate

    reg             in_record;
    reg [2:0]       pos;     // byte of the pair: 0 = {last, key}, 1..4 = code
    reg             last;
    reg [KEY_W-1:0] key;
    reg [23:0]      code_hi; // code bytes 1..3

    wire at_key = in_record && pos == 3'd0;
    wire at_end = in_record && pos == 3'd4;

    assign in_ready = at_end ? out_ready : 1'b1;
    assign out_valid = at_end && in_valid;
    assign out_last = last;
    assign out_key = key;
    assign out_code = {code_hi, in_data};

    generate
        if (KEY_W < 7) begin : g_high
            wire high = |in_data[6:KEY_W];
            always @(posedge clk) begin
                if (rst) error <= 1'b0;
                else if (at_key && in_valid && high) error <= 1'b1;
            end
        end else begin : g_full
            always @(posedge clk) begin
                if (rst) error <= 1'b0;
            end
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            in_record <= 1'b0;
            pos <= 3'd0;
            last <= 1'b0;
            key <= {KEY_W{1'b0}};
            code_hi <= 24'd0;
        end else if (!in_record) begin
            if (in_valid && in_data == 8'hA6) begin
                in_record <= 1'b1;
                pos <= 3'd0;
            end
        end else if (in_valid && in_ready) begin
            if (at_key) begin
                last <= in_data[7];
                key <= in_data[KEY_W-1:0];
            end else if (!at_end) begin
                code_hi <= {code_hi[15:0], in_data};
            end
            if (at_end) begin
                pos <= 3'd0;
                if (last) in_record <= 1'b0;
            end else begin
                pos <= pos + 3'd1;
            end
        end
    end

endmodule
`default_nettype wire
