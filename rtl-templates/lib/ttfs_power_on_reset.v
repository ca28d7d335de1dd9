`default_nettype none
// ttfs_power_on_reset: the board wrappers' reset. `rst` is high from
// configuration until the PLL has been locked for 2^HOLD_BITS consecutive
// cycles, and again whenever `lock` drops. `lock` is asynchronous to `clk`
// and passes two synchronising flip-flops first. The counter and the
// synchronisers start at 0 from the bitstream (iCE40 flip-flops power up
// at 0), so `rst` is high at power-up.
module ttfs_power_on_reset #(
    parameter integer HOLD_BITS = 4
) (
    input  wire clk,
    input  wire lock,
    output wire rst
);

    // ---- parameter checks (rtl-templates/README.md) ------------------------
    generate
        if (HOLD_BITS < 0) begin : g_check_hold_bits
`ifdef __ICARUS__
            localparam integer STOP = ttfs_power_on_reset_HOLD_BITS_must_be_0_or_more;
`else
            $error("ttfs_power_on_reset: HOLD_BITS must be 0 or more");
            ttfs_power_on_reset_HOLD_BITS_must_be_0_or_more stop ();
`endif
        end
    endgenerate

    reg [1:0]         sync = 2'b00;
    reg [HOLD_BITS:0] count = {(HOLD_BITS + 1){1'b0}};

    always @(posedge clk) begin
        sync <= {sync[0], lock};
        if (!sync[1]) count <= {(HOLD_BITS + 1){1'b0}};
        else if (!count[HOLD_BITS]) count <= count + 1'b1;
    end

    assign rst = !count[HOLD_BITS];

endmodule
`default_nettype wire
