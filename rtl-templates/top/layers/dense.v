{#- One dense layer of the top module (ttfs_dense_layer with its weight
    memory), rendered by generator/hw/src/emit/dense.rs into top.v's layer
    list. Fields are the layer's view (LayerView). #}
    // ---- layer {{ l.index }} '{{ l.name }}': {{ l.n_in }} -> {{ l.n_out }}, {{ l.lanes }} lanes x {{ l.blocks }} blocks, weights in {{ l.store }}, {% if l.dsp %}DSP{% else %}logic{% endif %} multipliers ----
{%- if l.hidden %}
    // Its output q{{ l.index + 1 }}_in_* is declared with queue {{ l.index + 1 }} above.
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [{{ l.potential_bits - 1 }}:0]      l{{ l.index }}_out_v; // logits only in the output layer
    /* verilator lint_on UNUSEDSIGNAL */
{%- else %}
    wire                    ro_in_valid, ro_in_ready, ro_in_last;
    wire [{{ l.idx_out_bits - 1 }}:0]              ro_in_idx;
    wire signed [{{ l.potential_bits - 1 }}:0]      ro_in_v;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [{{ l.q_out_bits - 1 }}:0]              l{{ l.index }}_out_q; // values only in hidden layers
    /* verilator lint_on UNUSEDSIGNAL */
{%- endif %}
    wire                    l{{ l.index }}_w_rd_en;
    wire [{{ l.weight_addr_bits - 1 }}:0]             l{{ l.index }}_w_rd_addr;
    wire [{{ l.weight_word_bits - 1 }}:0]             l{{ l.index }}_w_rd_data;

    ttfs_dense_layer #(
        .N_IN({{ l.n_in }}),
        .N_OUT({{ l.n_out }}),
        .P({{ l.lanes }}),
        .WB({{ l.weight_bits }}),
        .BW({{ l.bias_bits }}),
        .QIN_W({{ l.q_in_bits }}),
        .IDX_IN_W({{ l.idx_in_bits }}),
        .IDX_OUT_W({{ l.idx_out_bits }}),
        .VW({{ l.potential_bits }}),
        .HIDDEN({% if l.hidden %}1{% else %}0{% endif %}),
        .QOUT_W({{ l.q_out_bits }}),
        .BETA({{ l.beta }}),
        .FIRE_SPS({{ l.fire_steps }}),
        .POT_RAM({% if l.potentials_in_ram %}1{% else %}0{% endif %}),
        .MUL_OPERATOR({% if l.dsp %}1{% else %}0{% endif %}),
        .READ_REG({% if l.read_register %}1{% else %}0{% endif %}),
        .BIAS_FILE("{{ l.bias_file }}")
    ) u_layer{{ l.index }} (
        .clk(clk), .rst(rst),
        .in_valid(l{{ l.index }}_in_valid), .in_ready(l{{ l.index }}_in_ready), .in_last(l{{ l.index }}_in_last),
        .in_idx(l{{ l.index }}_in_idx), .in_q(l{{ l.index }}_in_q),
{%- if l.hidden %}
        .out_valid(q{{ l.index + 1 }}_in_valid), .out_ready(q{{ l.index + 1 }}_in_ready), .out_last(q{{ l.index + 1 }}_in_last),
        .out_idx(q{{ l.index + 1 }}_in_idx), .out_q(q{{ l.index + 1 }}_in_q), .out_v(l{{ l.index }}_out_v),
{%- else %}
        .out_valid(ro_in_valid), .out_ready(ro_in_ready), .out_last(ro_in_last),
        .out_idx(ro_in_idx), .out_q(l{{ l.index }}_out_q), .out_v(ro_in_v),
{%- endif %}
        .w_rd_en(l{{ l.index }}_w_rd_en), .w_rd_addr(l{{ l.index }}_w_rd_addr), .w_rd_data(l{{ l.index }}_w_rd_data));
{%- include "layers/weights.v" %}
