`default_nettype none
// {{ top }}: {{ what }}, fully unrolled (ttfs-hdl {{ version }}; do not edit): the baseline
// that `ttfs synth --asic --unrolled` compares the TTFS design with. Every
// weight is a constant multiplier in a ttfs_unrolled_neuron, so no weight is
// stored or read: one input vector per cycle, a result {{ latency }} cycles later.
//   in_q      {{ n_in }} inputs of {{ qw_in }} bits, input j at [j*{{ qw_in }} +: {{ qw_in }}]
{%- if whole %}
//   out_data  {class ({{ cls_bits }} bits) at [{{ cls_bits - 1 }}:0], then logit i ({{ out_vw }} bits, two's complement)
//             at [{{ cls_bits }} + i*{{ out_vw }} +: {{ out_vw }}]}; the class is the first index of the maximum
{%- else if sample_hidden %}
//   out_data  the neuron's value q = clamp(floor(V / {{ sample_beta }}), 0, {{ sample_ticks }}) ({{ out_w }} bits)
{%- else %}
//   out_data  the neuron's logit V ({{ out_w }} bits, two's complement)
{%- endif %}
// (valid with out_valid). The discrete reference's integer closed form
// (docs/design.md) gives the same numbers; its bench, {{ top }}_tb, checks them.
module {{ top }} (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 in_valid,
    input  wire [{{ n_in * qw_in - 1 }}:0]      in_q,
    output wire                 out_valid,
    output wire [{{ out_w - 1 }}:0]      out_data
);

    wire l{{ first }}_valid = in_valid;
    wire [{{ n_in * qw_in - 1 }}:0] l{{ first }}_q = in_q;
{%- for l in layers %}

    // ---- layer {{ l.index }}: {{ l.n_in }} -> {{ l.neurons.len() }}{% if !whole %} (one neuron of {{ l.n_out }}){% endif %}, {{ l.wb }}-bit weights{% if l.hidden %}, fires with beta {{ l.beta }}{% endif %} ----
    wire [{{ l.neurons.len() - 1 }}:0] l{{ l.index }}_v_valid;
{%- if !l.hidden %}
    wire [{{ l.neurons.len() * l.vw - 1 }}:0] l{{ l.index }}_v;
{%- endif %}
{%- for n in l.neurons %}
    wire signed [{{ l.vw - 1 }}:0] l{{ l.index }}_v{{ n.neuron }};
    ttfs_unrolled_neuron #(
        .N_IN({{ l.n_in }}), .QW_IN({{ l.qw_in }}), .WB({{ l.wb }}), .VW({{ l.vw }}),
        .WEIGHTS({{ n.weights }}),
        .BIAS({{ n.bias }})
    ) u_l{{ l.index }}_n{{ n.neuron }} (
        .clk(clk), .rst(rst), .in_valid(l{{ l.index }}_valid), .in_q(l{{ l.index }}_q),
        .out_valid(l{{ l.index }}_v_valid[{{ loop.index0 }}]), .out_v(l{{ l.index }}_v{{ n.neuron }})
    );
{%- if !l.hidden %}
    assign l{{ l.index }}_v[{{ loop.index0 * l.vw }} +: {{ l.vw }}] = $unsigned(l{{ l.index }}_v{{ n.neuron }});
{%- endif %}
{%- endfor %}
{%- if l.hidden %}
    wire [{{ l.neurons.len() - 1 }}:0] l{{ l.index }}_fire_valid;
    wire [{{ l.neurons.len() - 1 }}:0] l{{ l.index }}_fire_tag;
    wire [{{ l.neurons.len() * l.qw_out - 1 }}:0] l{{ l.index + 1 }}_q;
    wire l{{ l.index + 1 }}_valid = l{{ l.index }}_fire_valid[0];
{%- for n in l.neurons %}
    ttfs_fire #(.VW({{ l.vw }}), .QW({{ l.qw_out }}), .BETA({{ l.beta }}), .SPS({{ fire_sps }}), .TAG_W(1)) u_l{{ l.index }}_fire{{ n.neuron }} (
        .clk(clk), .rst(rst), .ce(1'b1),
        .in_valid(l{{ l.index }}_v_valid[{{ loop.index0 }}]), .in_v(l{{ l.index }}_v{{ n.neuron }}), .in_tag(1'b0),
        .out_valid(l{{ l.index }}_fire_valid[{{ loop.index0 }}]), .out_q(l{{ l.index + 1 }}_q[{{ loop.index0 * l.qw_out }} +: {{ l.qw_out }}]), .out_tag(l{{ l.index }}_fire_tag[{{ loop.index0 }}])
    );
{%- endfor %}
{%- endif %}
    // Every neuron of a layer keeps step with the first: one valid is used
    // (and the fire units' tags are not).
    wire unused_l{{ l.index }}_valid = ^l{{ l.index }}_v_valid{% if l.hidden %} ^ ^l{{ l.index }}_fire_valid ^ ^l{{ l.index }}_fire_tag{% endif %};
{%- endfor %}
{%- if whole %}

    // ---- the class: first index of the largest logit ----
    wire [{{ out_vw * classes - 1 }}:0] logits;
    wire [{{ cls_bits - 1 }}:0] class_idx;
    ttfs_argmax #(.N({{ classes }}), .VW({{ out_vw }}), .CLS_W({{ cls_bits }})) u_argmax (
        .clk(clk), .rst(rst), .in_valid(l{{ last }}_v_valid[0]), .in_v(l{{ last }}_v),
        .out_valid(out_valid), .out_class(class_idx), .out_v(logits)
    );
    assign out_data = {logits, class_idx};
{%- else if sample_hidden %}
    assign out_valid = l{{ last + 1 }}_valid;
    assign out_data = l{{ last + 1 }}_q;
{%- else %}
    assign out_valid = l{{ last }}_v_valid[0];
    assign out_data = l{{ last }}_v;
{%- endif %}

endmodule
`default_nettype wire
