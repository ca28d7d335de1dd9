{#- A layer's weight memory (a ttfs_weight_spram with its ttfs_weight_loader
    in the load chain, or a ttfs_weight_rom in block RAM), included by the
    layer templates (dense.v, conv.v); `l` is the layer's view. #}
{%- match l.spram %}
{%- when Some(d) %}

    // Weights in SPRAM ({{ l.weight_words }} words), written once by loader {{ d }}.
    wire                    l{{ l.index }}_wr_en;
    wire [13:0]             l{{ l.index }}_wr_addr;
    wire [{{ l.weight_word_bits - 1 }}:0]             l{{ l.index }}_wr_data;

    ttfs_weight_loader #(
        .DATA_W({{ l.weight_word_bits }}),
        .WORDS({{ l.weight_words }}),
        .ADDR_W(14)
    ) u_loader{{ d }} (
        .clk(clk), .rst(rst),
        .in_valid(ld{{ d }}_valid), .in_ready(ld{{ d }}_ready), .in_data(ld{{ d }}_data),
        .out_valid(ld{{ d + 1 }}_valid), .out_ready(ld{{ d + 1 }}_ready), .out_data(ld{{ d + 1 }}_data),
        .wr_en(l{{ l.index }}_wr_en), .wr_addr(l{{ l.index }}_wr_addr), .wr_data(l{{ l.index }}_wr_data),
        .done(ld{{ d }}_done));

    ttfs_weight_spram #(
        .DATA_W({{ l.weight_word_bits }}),
        .RD_ADDR_W({{ l.weight_addr_bits }})
    ) u_weights{{ l.index }} (
        .clk(clk),
        .rd_en(l{{ l.index }}_w_rd_en), .rd_addr(l{{ l.index }}_w_rd_addr), .rd_data(l{{ l.index }}_w_rd_data),
        .wr_en(l{{ l.index }}_wr_en), .wr_addr(l{{ l.index }}_wr_addr), .wr_data(l{{ l.index }}_wr_data));
{%- when None %}
{%- if l.rom_macro %}

    // Weights in a ROM macro ({{ l.weight_words }} words of {{ l.weight_word_bits }} bits): ttfs_rom_macro is the
    // placeholder for the macro the ASIC flow provides (sim/ttfs_rom_macro.v
    // models it; manifest.json lists it under memory_macros).
{%- else if l.rom_logic %}

    // Weights as ROM logic ({{ l.weight_words }} words of {{ l.weight_word_bits }} bits): synthesis turns the
    // $readmemh-initialised memory into gates.
{%- else %}

    // Weights in block RAM, initialised by the bitstream.
{%- endif %}
    {% if l.rom_macro %}ttfs_rom_macro{% else %}ttfs_weight_rom{% endif %} #(
        .ADDR_W({{ l.weight_addr_bits }}),
        .DATA_W({{ l.weight_word_bits }}),
        .DEPTH({{ l.weight_words }}),
        .INIT_FILE("{{ l.weight_file }}")
    ) u_weights{{ l.index }} (
        .clk(clk),
        .rd_en(l{{ l.index }}_w_rd_en), .rd_addr(l{{ l.index }}_w_rd_addr), .rd_data(l{{ l.index }}_w_rd_data));
{%- endmatch %}
