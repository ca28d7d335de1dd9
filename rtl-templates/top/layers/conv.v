{#- One convolution of the top module (ttfs_conv_layer with its fused max
    pooling and its weight memory), rendered by generator/hw/src/emit/conv.rs
    into top.v's layer list. Fields are the layer's view (LayerView) and its
    geometry (ConvView). A convolution is always hidden. #}
    // ---- layer {{ l.index }} '{{ l.name }}': conv {{ c.c_in }}x{{ c.h_in }}x{{ c.w_in }} -> {{ c.c_out }}x{{ c.h_out }}x{{ c.w_out }} ({{ c.kh }}x{{ c.kw }}, stride {{ c.sh }}x{{ c.sw }}, pad {{ c.pt }},{{ c.pl }}){% if c.pooled %}, max pool {{ c.pkh }}x{{ c.pkw }}{% endif %}, {{ l.lanes }} lanes x {{ l.blocks }} blocks, weights in {{ l.store }}, {% if l.dsp %}DSP{% else %}logic{% endif %} multipliers ----
    // Its output q{{ l.index + 1 }}_in_* is declared with queue {{ l.index + 1 }} above.
    wire                    l{{ l.index }}_w_rd_en;
    wire [{{ l.weight_addr_bits - 1 }}:0]             l{{ l.index }}_w_rd_addr;
    wire [{{ l.weight_word_bits - 1 }}:0]             l{{ l.index }}_w_rd_data;

    ttfs_conv_layer #(
        .C_IN({{ c.c_in }}),
        .H_IN({{ c.h_in }}),
        .W_IN({{ c.w_in }}),
        .C_OUT({{ c.c_out }}),
        .KH({{ c.kh }}),
        .KW({{ c.kw }}),
        .SH({{ c.sh }}),
        .SW({{ c.sw }}),
        .PT({{ c.pt }}),
        .PL({{ c.pl }}),
        .H_OUT({{ c.h_out }}),
        .W_OUT({{ c.w_out }}),
        .PKH({{ c.pkh }}),
        .PKW({{ c.pkw }}),
        .P({{ l.lanes }}),
        .WB({{ l.weight_bits }}),
        .BW({{ l.bias_bits }}),
        .QIN_W({{ l.q_in_bits }}),
        .VW({{ l.potential_bits }}),
        .QOUT_W({{ l.q_out_bits }}),
        .BETA({{ l.beta }}),
        .FIRE_SPS({{ l.fire_steps }}),
        .MUL_OPERATOR({% if l.dsp %}1{% else %}0{% endif %}),
        .BIAS_MAP({% if c.bias_map %}1{% else %}0{% endif %}),
        .OUT_FLAT({% if c.out_flat %}1{% else %}0{% endif %}),
        .IDX_IN_W({{ l.idx_in_bits }}),
        .IDX_OUT_W({{ l.idx_out_bits }}),
        .BIAS_FILE("{{ l.bias_file }}")
    ) u_layer{{ l.index }} (
        .clk(clk), .rst(rst),
        .in_valid(l{{ l.index }}_in_valid), .in_ready(l{{ l.index }}_in_ready), .in_last(l{{ l.index }}_in_last),
        .in_idx(l{{ l.index }}_in_idx), .in_q(l{{ l.index }}_in_q),
        .out_valid(q{{ l.index + 1 }}_in_valid), .out_ready(q{{ l.index + 1 }}_in_ready), .out_last(q{{ l.index + 1 }}_in_last),
        .out_idx(q{{ l.index + 1 }}_in_idx), .out_q(q{{ l.index + 1 }}_in_q),
        .w_rd_en(l{{ l.index }}_w_rd_en), .w_rd_addr(l{{ l.index }}_w_rd_addr), .w_rd_data(l{{ l.index }}_w_rd_data));
{%- include "layers/weights.v" %}
