// ttfs_tb.vh: the boilerplate that the test benches in rtl-templates/tb
// share, as macros that expand to module items (use each at most once per
// module, with no `;` after it). A bench includes this file once, at its
// top, and is compiled with rtl-templates/tb on the include path: `-I dir`
// for Icarus, `-Idir` for Verilator.
//
//   `TTFS_TB_CLOCK       reg clk: 0 at time 0, then a period of 10 time
//                        units (rising edges at 5, 15, 25, ...).
//   `TTFS_TB_RESET(n)    reg rst: 1 from time 0, released (nonblocking,
//                        like a flip-flop) at the n-th rising edge of clk,
//                        so the DUT sees it high at the first n edges.
//   `TTFS_TB_XORSHIFT32  function [31:0] xorshift32(x): Marsaglia's 32-bit
//                        xorshift (shifts 13, 17, 5), the benches' source of
//                        fixed-seed random stimulus (x must not be 0).
//   `TTFS_TB_VERDICT     reg failed (0 at time 0; a check that fails prints
//                        a line starting with FAIL and sets it) and the task
//                        tb_finish, which ends the run: the sentinel
//                        `*-* All Finished *-*` (what tests/rtl_blocks.rs
//                        looks for, along with the absence of FAIL) only if
//                        nothing failed, then $finish.
`ifndef TTFS_TB_VH
`define TTFS_TB_VH

`define TTFS_TB_CLOCK \
    reg clk; \
    initial begin \
        clk = 1'b0; \
        forever #5 clk = ~clk; \
    end

`define TTFS_TB_RESET(n) \
    reg rst; \
    initial begin \
        rst = 1'b1; \
        repeat (n) @(posedge clk); \
        rst <= 1'b0; \
    end

`define TTFS_TB_XORSHIFT32 \
    function [31:0] xorshift32; \
        input [31:0] x; \
        reg [31:0] y; \
        begin \
            y = x ^ (x << 13); \
            y = y ^ (y >> 17); \
            xorshift32 = y ^ (y << 5); \
        end \
    endfunction

`define TTFS_TB_VERDICT \
    reg failed; \
    initial failed = 1'b0; \
    task tb_finish; \
        begin \
            if (!failed) $display("*-* All Finished *-*"); \
            $finish; \
        end \
    endtask

`endif
