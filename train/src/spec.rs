//! The architecture strings of `ttfs train --arch`.
//!
//! A SPEC is a list of layer tokens joined by `-`:
//!
//! | token | meaning |
//! |---|---|
//! | `784` first | the input: 784 features |
//! | `28x28`, `1x28x28` first | the input: an image (`HxW` means one channel) |
//! | `340` | a dense layer of 340 ReLU neurons (flattens an image first) |
//! | `c16k5` | a convolution: 16 output channels, 5×5 kernel, stride 1, no padding |
//! | `c16k3z1` | … with 1 pixel of zero padding on every side (`z` for zeros) |
//! | `c16k3s2` | … with stride 2 (`s` and `z` may both be given, `s` first) |
//! | `p2` | max pooling 2×2, stride 2 |
//! | `p3s2` | max pooling 3×3, stride 2 |
//!
//! The last token is the output layer: a dense layer whose potentials are
//! the logits (one per class). When the first token is not an input shape
//! (`c16k5-p2-c32k5-p2-10`), the input is the data's sample shape (an MNIST
//! IDX file gives `28x28`). Examples: `784-340-10` (paper 2's FC2),
//! `c16k5-p2-c32k5-p2-10` (a small CNN), `1x28x28-c8k3z1-p2-64-10`.

use std::fmt;

/// Most layers a SPEC may have (a guard against absurd strings, far above
/// any network that trains on a CPU).
pub const MAX_LAYERS: usize = 64;
/// Largest width, channel count, kernel or stride a token may give.
pub const MAX_SIZE: usize = 1 << 16;
/// Most parameters a SPEC may describe (weights and biases); a network this
/// large would not train here anyway, and nothing is allocated before the
/// count is checked.
pub const MAX_PARAMETERS: usize = 1 << 28;

/// One layer of a parsed SPEC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayerSpec {
    /// A dense layer with this many neurons (the last one is the output).
    Dense(usize),
    /// A convolution.
    Conv {
        /// Output channels.
        channels: usize,
        /// Square kernel size.
        kernel: usize,
        /// Stride (both axes).
        stride: usize,
        /// Zero padding on every side.
        pad: usize,
    },
    /// Max pooling.
    Pool {
        /// Square pool size.
        kernel: usize,
        /// Stride (both axes).
        stride: usize,
    },
}

/// A parsed architecture: the input shape (when the SPEC gives one) and the
/// layers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arch {
    /// `[n]` or `[C, H, W]`, or `None` when it comes from the data.
    pub input: Option<Vec<usize>>,
    /// Layers in order; the last is `Dense` (the output layer).
    pub layers: Vec<LayerSpec>,
}

/// Why a SPEC was refused: the string, the token (1-based) and what was
/// expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The whole SPEC.
    pub spec: String,
    /// 1-based token number, 0 for the string as a whole.
    pub token: usize,
    /// The message.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.token == 0 {
            write!(f, "architecture {:?}: {}", self.spec, self.message)
        } else {
            write!(f, "architecture {:?}, token {}: {}", self.spec, self.token, self.message)
        }
    }
}

impl std::error::Error for SpecError {}

const EXPECTED: &str =
    "expected a dense width (340), a convolution (c16k5, c16k3z1, c16k3s2z1) or a max pool (p2, p3s2)";

/// Parses a SPEC (see the module documentation).
pub fn parse(spec: &str) -> Result<Arch, SpecError> {
    let fail = |token: usize, message: String| SpecError { spec: spec.to_string(), token, message };
    let tokens: Vec<&str> = spec.split('-').map(str::trim).collect();
    if tokens.len() > MAX_LAYERS + 1 {
        return Err(fail(0, format!("{} tokens; at most {} layers are allowed", tokens.len(), MAX_LAYERS)));
    }
    let mut input = None;
    let mut layers = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let at = i + 1;
        if token.is_empty() {
            return Err(fail(at, format!("empty token; {EXPECTED}")));
        }
        if i == 0 && (token.contains('x') || (tokens.len() > 1 && token.parse::<usize>().is_ok())) {
            input = Some(parse_shape(token).map_err(|m| fail(at, m))?);
            continue;
        }
        layers.push(parse_layer(token).map_err(|m| fail(at, m))?);
    }
    match layers.last() {
        None => return Err(fail(0, "no layers; the last token must be the output width, e.g. 784-340-10".into())),
        Some(LayerSpec::Dense(_)) => {}
        Some(_) => {
            return Err(fail(
                tokens.len(),
                "the last layer must be the dense output layer (its width is the class count)".into(),
            ));
        }
    }
    if let Some(shape) = &input
        && shape.len() == 1
        && layers.iter().any(|l| !matches!(l, LayerSpec::Dense(_)))
    {
        return Err(fail(
            1,
            format!("a flat input of {} features cannot feed a convolution or pool; give it as CxHxW", shape[0]),
        ));
    }
    Ok(Arch { input, layers })
}

/// `784`, `28x28` or `1x28x28`.
fn parse_shape(token: &str) -> Result<Vec<usize>, String> {
    let dims: Vec<usize> = token.split('x').map(|d| number(d, "input dimension")).collect::<Result<_, _>>()?;
    match dims.len() {
        1 => Ok(dims),
        2 => Ok(vec![1, dims[0], dims[1]]),
        3 => Ok(dims),
        n => Err(format!("input shape {token:?} has {n} dimensions; give N, HxW or CxHxW")),
    }
}

/// A positive number within [`MAX_SIZE`].
fn number(text: &str, what: &str) -> Result<usize, String> {
    let n: usize = text.parse().map_err(|_| format!("{what} {text:?} is not a whole number"))?;
    if n == 0 || n > MAX_SIZE {
        return Err(format!("{what} {n} is outside 1..={MAX_SIZE}"));
    }
    Ok(n)
}

/// Splits `c16k3s2z1` after the leading letter into `[(c,16),(k,3),(s,2),(z,1)]`.
fn fields(token: &str) -> Result<Vec<(char, &str)>, String> {
    let mut out = Vec::new();
    let mut rest = token;
    while let Some(letter) = rest.chars().next() {
        if !letter.is_ascii_alphabetic() {
            return Err(format!("{token:?}: expected a letter at {rest:?}; {EXPECTED}"));
        }
        let digits = rest[1..].find(|c: char| !c.is_ascii_digit()).map_or(rest.len(), |p| p + 1);
        if digits == 1 {
            return Err(format!("{token:?}: '{letter}' needs a number after it; {EXPECTED}"));
        }
        out.push((letter, &rest[1..digits]));
        rest = &rest[digits..];
    }
    Ok(out)
}

fn parse_layer(token: &str) -> Result<LayerSpec, String> {
    if token.chars().all(|c| c.is_ascii_digit()) {
        return Ok(LayerSpec::Dense(number(token, "width")?));
    }
    let f = fields(token)?;
    let letters: String = f.iter().map(|(l, _)| *l).collect();
    let get = |l: char, what: &str| -> Result<Option<usize>, String> {
        f.iter().find(|(x, _)| *x == l).map(|(_, n)| number(n, what)).transpose()
    };
    match letters.as_str() {
        "ck" | "cks" | "ckz" | "cksz" => {
            let kernel = get('k', "kernel")?.expect("k present");
            let pad = get('z', "padding")?.unwrap_or(0);
            if pad >= kernel {
                return Err(format!("{token:?}: padding {pad} must be smaller than the kernel {kernel}"));
            }
            Ok(LayerSpec::Conv {
                channels: get('c', "channel count")?.expect("c present"),
                kernel,
                stride: get('s', "stride")?.unwrap_or(1),
                pad,
            })
        }
        "p" | "ps" => {
            let kernel = get('p', "pool size")?.expect("p present");
            Ok(LayerSpec::Pool { kernel, stride: get('s', "stride")?.unwrap_or(kernel) })
        }
        _ => Err(format!("{token:?} is not a layer; {EXPECTED}")),
    }
}

/// The shape after each layer of `arch` on input `input`, or a message
/// naming the layer that does not fit (a kernel larger than its input, a
/// parameter count beyond [`MAX_PARAMETERS`]).
pub fn shapes(arch: &Arch, input: &[usize]) -> Result<Vec<Vec<usize>>, String> {
    let mut shape = input.to_vec();
    let mut out = Vec::with_capacity(arch.layers.len());
    let mut parameters: usize = 0;
    for (i, layer) in arch.layers.iter().enumerate() {
        let elements: usize = shape.iter().product();
        let name = format!("layer {} ({})", i + 1, describe(layer));
        shape = match *layer {
            LayerSpec::Dense(n) => {
                parameters = parameters.saturating_add(elements.saturating_mul(n).saturating_add(n));
                vec![n]
            }
            LayerSpec::Conv { channels, kernel, stride, pad } => {
                let [c, h, w] = image(&shape, &name)?;
                let oh = out_dim(h, kernel, stride, pad).ok_or_else(|| too_small(&name, h, w, kernel, pad))?;
                let ow = out_dim(w, kernel, stride, pad).ok_or_else(|| too_small(&name, h, w, kernel, pad))?;
                parameters = parameters.saturating_add((c * kernel * kernel + 1).saturating_mul(channels));
                vec![channels, oh, ow]
            }
            LayerSpec::Pool { kernel, stride } => {
                let [c, h, w] = image(&shape, &name)?;
                let oh = out_dim(h, kernel, stride, 0).ok_or_else(|| too_small(&name, h, w, kernel, 0))?;
                let ow = out_dim(w, kernel, stride, 0).ok_or_else(|| too_small(&name, h, w, kernel, 0))?;
                vec![c, oh, ow]
            }
        };
        if parameters > MAX_PARAMETERS {
            return Err(format!("{name}: the network would have more than {MAX_PARAMETERS} parameters"));
        }
        out.push(shape.clone());
    }
    Ok(out)
}

fn image(shape: &[usize], name: &str) -> Result<[usize; 3], String> {
    match *shape {
        [c, h, w] => Ok([c, h, w]),
        _ => Err(format!(
            "{name} needs an image input (CxHxW) but gets {shape:?}; convolutions and pools come before dense layers"
        )),
    }
}

fn out_dim(size: usize, kernel: usize, stride: usize, pad: usize) -> Option<usize> {
    let padded = size + 2 * pad;
    (padded >= kernel).then(|| (padded - kernel) / stride + 1)
}

fn too_small(name: &str, h: usize, w: usize, kernel: usize, pad: usize) -> String {
    format!("{name}: a {kernel}x{kernel} window does not fit its {h}x{w} input (padding {pad})")
}

/// The token that writes `layer` (for messages and the network's notes).
pub fn describe(layer: &LayerSpec) -> String {
    match *layer {
        LayerSpec::Dense(n) => n.to_string(),
        LayerSpec::Conv { channels, kernel, stride, pad } => {
            let mut s = format!("c{channels}k{kernel}");
            if stride != 1 {
                s += &format!("s{stride}");
            }
            if pad != 0 {
                s += &format!("z{pad}");
            }
            s
        }
        LayerSpec::Pool { kernel, stride } if stride == kernel => format!("p{kernel}"),
        LayerSpec::Pool { kernel, stride } => format!("p{kernel}s{stride}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlp_and_cnn_specs_parse() {
        let a = parse("784-340-10").unwrap();
        assert_eq!(a.input, Some(vec![784]));
        assert_eq!(a.layers, vec![LayerSpec::Dense(340), LayerSpec::Dense(10)]);
        let c = parse("c16k5-p2-c32k5-p2-10").unwrap();
        assert_eq!(c.input, None);
        assert_eq!(c.layers[0], LayerSpec::Conv { channels: 16, kernel: 5, stride: 1, pad: 0 });
        assert_eq!(c.layers[1], LayerSpec::Pool { kernel: 2, stride: 2 });
        let s = shapes(&c, &[1, 28, 28]).unwrap();
        assert_eq!(s, vec![vec![16, 24, 24], vec![16, 12, 12], vec![32, 8, 8], vec![32, 4, 4], vec![10]]);
        let p = parse("28x28-c8k3s2z1-p3s2-64-10").unwrap();
        assert_eq!(p.input, Some(vec![1, 28, 28]));
        assert_eq!(p.layers[0], LayerSpec::Conv { channels: 8, kernel: 3, stride: 2, pad: 1 });
        assert_eq!(p.layers[1], LayerSpec::Pool { kernel: 3, stride: 2 });
        for layer in p.layers.iter().chain(&c.layers) {
            assert_eq!(parse(&format!("1x9x9-{}-10", describe(layer))).unwrap().layers[0], *layer);
        }
        // A lone width is the output layer of an input-less SPEC.
        assert_eq!(parse("10").unwrap().layers, vec![LayerSpec::Dense(10)]);
    }

    #[test]
    fn bad_specs_say_where_and_what() {
        let cases = [
            ("784-x-10", 2, "expected a dense width"),
            ("784-q3-10", 2, "not a layer"),
            ("784--10", 2, "empty token"),
            ("784-340-p2", 3, "dense output"),
            ("784-c8k3-10", 1, "cannot feed a convolution"),
            ("c8k-10", 1, "needs a number"),
            ("c8k3z3-10", 1, "smaller than the kernel"),
            ("784-0-10", 2, "outside 1..="),
            ("784-99999999999999999999999-10", 2, "not a whole number"),
            ("2x2x2x2-10", 1, "4 dimensions"),
            ("c8k5-p2-c8k3-10", 3, ""),
        ];
        for (spec, token, text) in cases {
            match parse(spec) {
                Err(e) => {
                    assert_eq!(e.token, token, "{spec}: {e}");
                    assert!(e.to_string().contains(text), "{spec}: {e}");
                }
                Ok(arch) => {
                    // Parses; the shapes refuse it.
                    let err = shapes(&arch, &[1, 8, 8]).unwrap_err();
                    assert!(err.contains("does not fit"), "{spec}: {err}");
                }
            }
        }
        assert!(shapes(&parse("60000-60000-60000-10").unwrap(), &[60000]).unwrap_err().contains("parameters"));
        assert!(parse(&vec!["5"; 70].join("-")).unwrap_err().message.contains("at most"));
    }
}
