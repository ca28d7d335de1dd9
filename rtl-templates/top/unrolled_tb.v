`default_nettype none
// {{ top }}_tb: checks the unrolled {{ top }} against the discrete reference
// (ttfs-hdl {{ version }}; do not edit). It sends the {{ count }} vectors of {{ in_file }}
// back to back, one per cycle, and compares every result, in order, with
// {{ expected_file }} (both $readmemh, one vector a line). It prints
//   unrolled <vectors> <mismatches> <cycles>
// and `*-* All Finished *-*` when every result matched, FAIL lines otherwise.
/* verilator lint_off BLKSEQ */
module {{ top }}_tb;

    localparam integer COUNT = {{ count }};
    localparam integer IN_W = {{ in_w }};
    localparam integer OUT_W = {{ out_w }};

    reg clk;
    initial clk = 1'b0;
    always #5 clk = ~clk;

    reg              rst;
    reg              in_valid;
    reg  [IN_W-1:0]  in_q;
    wire             out_valid;
    wire [OUT_W-1:0] out_data;

    {{ top }} dut (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_q(in_q),
        .out_valid(out_valid), .out_data(out_data)
    );

    reg [IN_W-1:0]  vectors  [0:COUNT-1];
    reg [OUT_W-1:0] expected [0:COUNT-1];
    integer sent, received, mismatches, cycles;

    initial begin
        $readmemh("{{ in_file }}", vectors);
        $readmemh("{{ expected_file }}", expected);
        rst = 1'b1;
        in_valid = 1'b0;
        in_q = {IN_W{1'b0}};
        sent = 0;
        received = 0;
        mismatches = 0;
        cycles = 0;
        repeat (2) @(negedge clk);
        rst = 1'b0;
    end

    always @(posedge clk) begin
        if (!rst) begin
            cycles = cycles + 1;
            if (out_valid) begin
                if (received < COUNT && out_data !== expected[received]) begin
                    if (mismatches < 10) $display("FAIL vector %0d: got %h, expected %h", received, out_data, expected[received]);
                    mismatches = mismatches + 1;
                end
                received = received + 1;
            end
            if (sent < COUNT) begin
                in_valid <= 1'b1;
                in_q <= vectors[sent];
                sent = sent + 1;
            end else begin
                in_valid <= 1'b0;
            end
            if (received >= COUNT || cycles > COUNT + 100) begin
                if (received != COUNT) begin
                    $display("FAIL %0d of %0d results came back", received, COUNT);
                    mismatches = mismatches + 1;
                end
                $display("unrolled %0d %0d %0d", received, mismatches, cycles);
                if (mismatches == 0) $display("*-* All Finished *-*");
                $finish;
            end
        end
    end

endmodule
`default_nettype wire
