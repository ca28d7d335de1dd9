`default_nettype none
// {{ top }}{{ suffix }}_tb: test bench of the generated {{ top }}{{ suffix }} (ttfs-hdl {{ version }}; do not
// edit). It streams {% if records.is_some() %}records (as images: one result each){% else %}images{% endif %} and prints what the design does, for a checker
// (`ttfs` compares it with the discrete reference) or a reader:
//   spike <layer> <image> <neuron> <q>   every hidden-layer output event
//   result <image> <class> <cycles> <at> <logit 0> ... <logit {{ classes - 1 }}>
//   done <results> <cycles since reset>
// <cycles> runs from the edge that takes the image's first pixel to the edge
// that takes its result, <at> counts edges since reset. Plusargs:
{%- if let Some(r) = records %}
//   +images=FILE   records as hex, one beat {last, key, code} per line ($readmemh):
//                  {{ r.key_bits }}-bit key, 32-bit token code, a record ends at a beat with last set;
{%- else %}
//   +images=FILE   pixels as hex, {{ n_in }} per image, one per line ($readmemh);
{%- endif %}
//                  without it, the {{ tb_images }} images of {{ tb_images_file }} (the default
//                  stimulus), each result checked against {{ tb_expected_file }}
//   +count=N       images to run (default 1 with +images, else {{ tb_images }}; at most MAX_IMAGES)
//   +expect=FILE   with +images: check each result against FILE (per image the
//                  class, then the {{ classes }} logits in {{ logit_bits }}-bit two's complement, as hex)
//   +stream        send images back to back (default: each image waits for the
//                  previous result, so <cycles> is the latency of one image)
{%- if !loaders.is_empty() %}
//   +weights=FILE  the SPRAM weight bytes as hex ($readmemh; default
//                  mem/weights_spram.hex), sent on ld_* before any image
{%- endif %}
// It ends with `*-* All Finished *-*`, or with FAIL lines and a non-zero exit ($fatal).
// The bench counts with blocking assignments inside clocked processes on
// purpose (it is not hardware), and not every design uses every port.
/* verilator lint_off BLKSEQ */
/* verilator lint_off UNUSEDSIGNAL */
module {{ top }}{{ suffix }}_tb;

    parameter integer MAX_IMAGES = 1000;
{%- if let Some(r) = records %}
    localparam integer N_IN = {{ r.keys }}; // beats per record, at most
    localparam integer BEAT_W = {{ r.key_bits + 33 }};
{%- else %}
    localparam integer N_IN = {{ n_in }};
{%- endif %}
    localparam integer LOGIT_W = {{ logit_bits }};
    localparam integer CLASSES = {{ classes }};
    localparam integer LOAD_BYTES = {{ load_bytes }};
    localparam integer TB_IMAGES = {{ tb_images }}; // images of the default stimulus
    localparam integer CLS_W = {{ cls_bits }};
    localparam integer EXP_W = (LOGIT_W > CLS_W) ? LOGIT_W : CLS_W;

    reg clk;
    initial clk = 1'b0;
    always #5 clk = ~clk;

    reg                   rst;
    reg                   ld_valid;
    wire                  ld_ready;
    reg  [7:0]            ld_data;
    wire                  loaded;
    reg                   s_valid;
    wire                  s_ready;
    reg                   s_last;
{%- if let Some(r) = records %}
    reg  [{{ r.key_bits - 1 }}:0]  s_key;
    reg  [31:0]           s_code;
{%- else %}
    reg  [{{ q0_bits - 1 }}:0]  s_data;
{%- endif %}
    wire                  m_valid;
    wire                  m_ready;
    wire [{{ cls_bits - 1 }}:0]  m_class;
    wire [{{ logits_width - 1 }}:0] m_logits;
    wire                  error;

    assign m_ready = 1'b1;

    {{ top }}{{ suffix }} dut (
        .clk(clk), .rst(rst),
        .ld_valid(ld_valid), .ld_ready(ld_ready), .ld_data(ld_data), .loaded(loaded),
        .s_valid(s_valid), .s_ready(s_ready), .s_last(s_last),
{%- if records.is_some() %} .s_key(s_key), .s_code(s_code),{% else %} .s_data(s_data),{% endif %}
        .m_valid(m_valid), .m_ready(m_ready), .m_class(m_class), .m_logits(m_logits),
        .error(error));

    reg [{% if records.is_some() %}BEAT_W-1{% else %}{{ q0_bits - 1 }}{% endif %}:0] pixels [0:MAX_IMAGES*N_IN-1];
{%- if !loaders.is_empty() %}
    reg [7:0] load_bytes [0:LOAD_BYTES-1];
{%- endif %}
    reg [EXP_W-1:0] expected [0:MAX_IMAGES*(CLASSES+1)-1];
    reg [EXP_W-1:0] want;
    reg [8*1024-1:0] path;
    integer count, stream, cycle, sent_bytes, image, pixel, results, i, check, mismatches{% if records.is_some() %}, beat{% endif %};
    integer start [0:MAX_IMAGES-1];

    initial begin
        check = 0;
        mismatches = 0;
        if ($value$plusargs("images=%s", path)) begin
            $readmemh(path, pixels);
            if (!$value$plusargs("count=%d", count)) count = 1;
            if ($value$plusargs("expect=%s", path)) begin
                $readmemh(path, expected);
                check = 1;
            end
        end else begin
            // No stimulus given: the default one, with its expected results.
{%- if records.is_some() %}
            $readmemh("{{ tb_images_file }}", pixels); // records have any number of beats
{%- else %}
            $readmemh("{{ tb_images_file }}", pixels, 0, TB_IMAGES * N_IN - 1);
{%- endif %}
            $readmemh("{{ tb_expected_file }}", expected, 0, TB_IMAGES * (CLASSES + 1) - 1);
            check = 1;
            if (!$value$plusargs("count=%d", count)) count = TB_IMAGES;
            if (count > TB_IMAGES) begin
                $display("FAIL {{ top }}{{ suffix }}_tb: +count=%0d is more than the %0d images of {{ tb_images_file }}", count, TB_IMAGES);
                $fatal(1, "{{ top }}{{ suffix }}_tb failed"); // FAIL exits non-zero (scripts, FuseSoC)
            end
            $display("{{ top }}{{ suffix }}_tb: %0d images of {{ tb_images_file }}, checked against {{ tb_expected_file }}", count);
        end
        if (count > MAX_IMAGES) begin
            $display("FAIL {{ top }}{{ suffix }}_tb: +count=%0d is more than MAX_IMAGES=%0d (set it with -G/-P)", count, MAX_IMAGES);
            $fatal(1, "{{ top }}{{ suffix }}_tb failed");
        end
        stream = $test$plusargs("stream") ? 1 : 0;
{%- if !loaders.is_empty() %}
        if (!$value$plusargs("weights=%s", path)) path = "mem/weights_spram.hex";
        $readmemh(path, load_bytes, 0, LOAD_BYTES - 1);
{%- endif %}
        rst = 1'b1;
        ld_valid = 1'b0; ld_data = 8'd0;
        s_valid = 1'b0; s_last = 1'b0;{% if let Some(r) = records %} s_key = {{ "{" }}{{ r.key_bits }}{1'b0}}; s_code = 32'd0;{% else %} s_data = {{ "{" }}{{ q0_bits }}{1'b0}};{% endif %}
        cycle = 0; sent_bytes = 0; image = 0; pixel = 0; results = 0;{% if records.is_some() %} beat = 0;{% endif %}
    end

    // Weight bytes first, then the images, one pixel per cycle.
    always @(posedge clk) begin
        cycle = cycle + 1;
        if (cycle == 4) rst <= 1'b0;
        if (!rst) begin
{%- if !loaders.is_empty() %}
            if (ld_valid && ld_ready) sent_bytes = sent_bytes + 1;
            ld_valid <= sent_bytes < LOAD_BYTES;
            ld_data <= (sent_bytes < LOAD_BYTES) ? load_bytes[sent_bytes] : 8'd0;
{%- endif %}
            if (s_valid && s_ready) begin
                if (pixel == 0) start[image] = cycle;
                pixel = pixel + 1;
{%- if records.is_some() %}
                // A record ends at its beat with `last` set (bit BEAT_W - 1).
                if (pixels[beat][BEAT_W-1] || pixel == N_IN) begin
                    pixel = 0;
                    image = image + 1;
                end
                beat = beat + 1;
{%- else %}
                if (pixel == N_IN) begin
                    pixel = 0;
                    image = image + 1;
                end
{%- endif %}
            end
            // After reset every layer loads its biases ({{ settle_cycles }} cycles
            // cover it): the first image then meets an idle pipeline, as the
            // cycle model assumes.
            if (loaded && cycle > {{ settle_cycles }} + 4 && image < count && (stream != 0 || results == image)) begin
                s_valid <= 1'b1;
{%- if records.is_some() %}
                {s_last, s_key, s_code} <= pixels[beat];
{%- else %}
                s_data <= pixels[image * N_IN + pixel];
                s_last <= pixel == N_IN - 1;
{%- endif %}
            end else begin
                s_valid <= 1'b0;
            end
            if (m_valid && m_ready) begin
                $write("result %0d %0d %0d %0d", results, m_class, cycle - start[results], cycle);
                for (i = 0; i < CLASSES; i = i + 1) $write(" %0d", $signed(m_logits[i*LOGIT_W +: LOGIT_W]));
                $write("\n");
                if (check != 0) begin
                    want = expected[results * (CLASSES + 1)];
                    if (m_class != want[CLS_W-1:0]) begin
                        $display("FAIL {{ top }}{{ suffix }}_tb: image %0d: class %0d, expected %0d", results, m_class, want[CLS_W-1:0]);
                        mismatches = mismatches + 1;
                    end
                    for (i = 0; i < CLASSES; i = i + 1) begin
                        want = expected[results * (CLASSES + 1) + 1 + i];
                        if (m_logits[i*LOGIT_W +: LOGIT_W] != want[LOGIT_W-1:0]) begin
                            $display("FAIL {{ top }}{{ suffix }}_tb: image %0d: logit %0d is %0d, expected %0d", results, i,
                                $signed(m_logits[i*LOGIT_W +: LOGIT_W]), $signed(want[LOGIT_W-1:0]));
                            mismatches = mismatches + 1;
                        end
                    end
                end
                results = results + 1;
                if (results == count) begin
                    $display("done %0d %0d", results, cycle);
                    if (error || mismatches != 0) begin
                        if (error) $display("FAIL {{ top }}{{ suffix }}_tb: the design flagged an input error");
                        else $display("FAIL {{ top }}{{ suffix }}_tb: %0d of the expected values differ", mismatches);
                        $fatal(1, "{{ top }}{{ suffix }}_tb failed");
                    end
                    if (check != 0) $display("{{ top }}{{ suffix }}_tb: all %0d results as expected", results);
                    $display("*-* All Finished *-*");
                    $finish;
                end
            end
            if (cycle > {{ timeout_per_image }} * (count + 1) + 2 * LOAD_BYTES + 100) begin
                $display("FAIL {{ top }}{{ suffix }}_tb: timeout after %0d cycles, %0d results", cycle, results);
                $fatal(1, "{{ top }}{{ suffix }}_tb failed");
            end
        end
    end
{% for l in layers %}{% if l.hidden %}
    // Layer {{ l.index }} '{{ l.name }}': its output events.
    integer image{{ l.index }};
    initial image{{ l.index }} = 0;
    always @(posedge clk) begin
        if (!rst && dut.u_layer{{ l.index }}.out_valid && dut.u_layer{{ l.index }}.out_ready) begin
            if (dut.u_layer{{ l.index }}.out_last) image{{ l.index }} = image{{ l.index }} + 1;
            else $display("spike {{ l.index }} %0d %0d %0d", image{{ l.index }}, dut.u_layer{{ l.index }}.out_idx, dut.u_layer{{ l.index }}.out_q);
        end
    end
{% endif %}{% endfor %}
endmodule
`default_nettype wire
