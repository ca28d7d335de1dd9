//! The grid of a sweep: `--grid KEY=V1,V2,…` options, checked before
//! anything runs, and their expansion into configurations.
//!
//! Keys are the stages' own option names (`ttfs flow --help`); every value
//! is parsed by the rule its option uses, so a value the flow would refuse
//! is refused here, naming the key. The expansion is the cartesian product
//! in the order the keys were given, the last key changing fastest: the
//! same grid always gives the same configurations with the same indices
//! (a Slurm array task k runs configuration k).

use serde::{Deserialize, Serialize};
use ttfs_hw::target::Target;

/// The most configurations one sweep may expand to.
pub const MAX_CONFIGURATIONS: usize = 100_000;

/// The most values one key may take.
pub const MAX_VALUES: usize = 1_000;

/// A grid key: an option of `ttfs flow`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Key {
    /// `MODEL`: a model file or a network description (a fine-tuned or
    /// trained variant, from `ttfs finetune` or `ttfs train`); the sweep
    /// makes it absolute and checks that it exists before anything runs.
    Model,
    /// `--weight-bits`: 2 to 16, for every weight layer.
    WeightBits,
    /// `--time-bits`: 1 to 16, for every spiking layer.
    TimeBits,
    /// `--margin`: the window margin ζ (more than −1).
    Margin,
    /// `--lanes`: `auto`, a number for every layer (0 = all), or lanes per
    /// layer written `A/B/…` (`--lanes-per-layer A,B,…`).
    Lanes,
    /// `--budget`: with `lanes=auto`, percent of the device's logic cells.
    Budget,
    /// `--target`: a device.
    Target,
    /// `--seed`: nextpnr's placer seed.
    Seed,
    /// `--freq`: the clock to ask synthesis for, MHz.
    Freq,
}

impl Key {
    /// Every key, in the order `--help` lists them.
    pub const ALL: [Key; 9] = [
        Key::Model,
        Key::WeightBits,
        Key::TimeBits,
        Key::Margin,
        Key::Lanes,
        Key::Budget,
        Key::Target,
        Key::Seed,
        Key::Freq,
    ];

    /// The option's name (`weight-bits`).
    pub fn name(self) -> &'static str {
        match self {
            Key::Model => "model",
            Key::WeightBits => "weight-bits",
            Key::TimeBits => "time-bits",
            Key::Margin => "margin",
            Key::Lanes => "lanes",
            Key::Budget => "budget",
            Key::Target => "target",
            Key::Seed => "seed",
            Key::Freq => "freq",
        }
    }

    /// The key named `name`.
    pub fn parse(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.name() == name)
    }

    /// What its values may be (for messages and `--help`).
    pub fn allowed(self) -> String {
        match self {
            Key::Model => "a model file or network description (.onnx or .json)".into(),
            Key::WeightBits => "an integer from 2 to 16".into(),
            Key::TimeBits => "an integer from 1 to 16".into(),
            Key::Margin => "a number more than -1".into(),
            Key::Lanes => "auto, a number of lanes (0 = all), or lanes per layer as A/B/...".into(),
            Key::Budget => "a percentage more than 0 and at most 100".into(),
            Key::Target => format!("one of {}", Target::names()),
            Key::Seed => "a non-negative integer".into(),
            Key::Freq => "a clock in MHz, more than 0 and at most 1000".into(),
        }
    }

    /// Checks one value, returning it in canonical form (what configuration
    /// names and commands show).
    pub fn check(self, value: &str) -> Result<String, String> {
        let bad = || format!("{}={}: not {}", self.name(), value.escape_debug(), self.allowed());
        let number = |lo: f64, hi: f64, lo_open: bool| -> Result<String, String> {
            let v: f64 = value.parse().map_err(|_| bad())?;
            let above = if lo_open { v > lo } else { v >= lo };
            if v.is_finite() && above && v <= hi { Ok(format_number(v)) } else { Err(bad()) }
        };
        match self {
            Key::Model => {
                let path = std::path::Path::new(value);
                let known =
                    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("onnx") || e.eq_ignore_ascii_case("json"));
                if known && !value.chars().any(char::is_control) && value.len() <= 4096 {
                    Ok(value.into())
                } else {
                    Err(bad())
                }
            }
            Key::WeightBits | Key::TimeBits => {
                let lo = if self == Key::WeightBits { 2 } else { 1 };
                match value.parse::<u32>() {
                    Ok(b) if (lo..=16).contains(&b) => Ok(b.to_string()),
                    _ => Err(bad()),
                }
            }
            Key::Margin => number(-1.0, 1e6, true),
            Key::Budget => number(0.0, 100.0, true),
            Key::Freq => number(0.0, 1000.0, true),
            Key::Seed => value.parse::<u64>().map(|s| s.to_string()).map_err(|_| bad()),
            Key::Target => Target::parse(value).map(|t| t.to_string()).ok_or_else(bad),
            Key::Lanes => {
                if value == "auto" {
                    return Ok(value.into());
                }
                let parts: Vec<&str> = value.split('/').collect();
                let lanes: Result<Vec<usize>, _> = parts.iter().map(|p| p.parse::<usize>()).collect();
                match lanes {
                    Ok(l) if l.len() <= 64 && l.iter().all(|&n| n <= 1 << 20) => {
                        Ok(l.iter().map(usize::to_string).collect::<Vec<_>>().join("/"))
                    }
                    _ => Err(bad()),
                }
            }
        }
    }
}

/// A number as a configuration shows it: an integer without a fraction.
fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v}") }
}

/// One axis of the grid: a key and its values (canonical, distinct).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// The option.
    pub key: Key,
    /// Its values, in the order given.
    pub values: Vec<String>,
}

/// Parses one `--grid KEY=V1,V2,…`. Refuses an unknown key, an empty or
/// impossible value, and a repeated value, naming the key.
pub fn parse_axis(text: &str) -> Result<Axis, String> {
    let Some((name, values)) = text.split_once('=') else {
        return Err(format!("--grid {}: write KEY=V1,V2,... (keys: {})", text.escape_debug(), key_names()));
    };
    let key = Key::parse(name.trim()).ok_or_else(|| {
        format!("--grid: `{}` is not an option a sweep can vary; the keys are {}", name.escape_debug(), key_names())
    })?;
    axis(key, values.split(',').map(str::trim))
}

/// The axis of `key` over `values`, each checked; refuses a repeated value.
fn axis<'a>(key: Key, values: impl Iterator<Item = &'a str>) -> Result<Axis, String> {
    let mut out: Vec<String> = Vec::new();
    for raw in values {
        let value = key.check(raw)?;
        if out.contains(&value) {
            return Err(format!("--grid {}: the value {value} is given twice", key.name()));
        }
        out.push(value);
    }
    if out.len() > MAX_VALUES {
        return Err(format!("--grid {}: {} values; at most {MAX_VALUES}", key.name(), out.len()));
    }
    Ok(Axis { key, values: out })
}

/// The most bytes of a grid file.
pub const MAX_GRID_FILE_BYTES: usize = 1 << 20;

/// The axes of a grid file (`--grid-file`), TOML with one table `grid`
/// whose keys are the grid's keys, in the file's order, each an array of
/// values (numbers or strings) or one value:
///
/// ```toml
/// [grid]
/// weight-bits = [4, 6, 8]
/// lanes = ["auto", 2, "4/2"]
/// target = "ice40-up5k"
/// ```
///
/// `name` names the file in messages. Refuses anything else: other tables,
/// unknown keys, values of other types, and what `--grid` refuses.
pub fn from_toml(text: &str, name: &str) -> Result<Vec<Axis>, String> {
    if text.len() > MAX_GRID_FILE_BYTES {
        return Err(format!("{name} is larger than {MAX_GRID_FILE_BYTES} bytes; a grid file is small"));
    }
    let table: toml::Table = toml::from_str(text).map_err(|e| format!("{name} is not TOML: {e}"))?;
    if let Some(other) = table.keys().find(|k| *k != "grid") {
        return Err(format!("{name}: `{}` is not allowed; a grid file holds one table, [grid]", other.escape_debug()));
    }
    let Some(toml::Value::Table(grid)) = table.get("grid") else {
        return Err(format!("{name} has no [grid] table"));
    };
    let mut axes = Vec::new();
    for (key_name, value) in grid {
        let key = Key::parse(key_name).ok_or_else(|| {
            format!(
                "{name}: `{}` is not an option a sweep can vary; the keys are {}",
                key_name.escape_debug(),
                key_names()
            )
        })?;
        let items: Vec<&toml::Value> = match value {
            toml::Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        let mut values = Vec::new();
        for item in items {
            values.push(match item {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                other => {
                    return Err(format!(
                        "{name}: {key_name} holds a {}; its values are {}",
                        other.type_str(),
                        key.allowed()
                    ));
                }
            });
        }
        axes.push(axis(key, values.iter().map(String::as_str)).map_err(|e| format!("{name}: {e}"))?);
    }
    Ok(axes)
}

/// The keys, for messages.
pub fn key_names() -> String {
    Key::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
}

/// Checks a grid as a whole: each key at most once, and at most
/// [`MAX_CONFIGURATIONS`] configurations.
pub fn check(axes: &[Axis]) -> Result<usize, String> {
    for (i, a) in axes.iter().enumerate() {
        if axes[..i].iter().any(|b| b.key == a.key) {
            return Err(format!("--grid {} is given twice: give all its values in one --grid", a.key.name()));
        }
    }
    let mut count: usize = 1;
    for a in axes {
        count = count.saturating_mul(a.values.len());
    }
    if count > MAX_CONFIGURATIONS {
        return Err(format!(
            "the grid expands to {count} configurations; a sweep may have at most {MAX_CONFIGURATIONS}"
        ));
    }
    Ok(count)
}

/// One configuration: a value for every key of the grid, in the grid's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Its index in the expansion (a Slurm array task's number).
    pub index: usize,
    /// Key and value, in the grid's order.
    pub values: Vec<(Key, String)>,
}

impl Config {
    /// The value of `key`, if the grid has it.
    pub fn get(&self, key: Key) -> Option<&str> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }

    /// A directory name for it: the index, then `key-value` pairs, in
    /// letters, digits, `.` and `-` only (`0007-weight-bits-4-lanes-2-4`);
    /// a model shows as its file's stem, cut to 40 characters (the index
    /// keeps names apart).
    pub fn name(&self) -> String {
        let mut name = format!("{:04}", self.index);
        for (key, value) in &self.values {
            let shown = match key {
                Key::Model => std::path::Path::new(value)
                    .file_stem()
                    .map_or_else(String::new, |s| s.to_string_lossy().chars().take(40).collect()),
                _ => value.clone(),
            };
            let value: String =
                shown.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' }).collect();
            name += &format!("-{}-{value}", key.name());
        }
        name
    }
}

/// The configuration with index `index` of the grid (`None` past the end).
pub fn config(axes: &[Axis], index: usize) -> Option<Config> {
    let total = axes.iter().try_fold(1usize, |n, a| n.checked_mul(a.values.len()))?;
    if index >= total {
        return None;
    }
    let mut rest = index;
    let mut values = vec![(Key::Seed, String::new()); axes.len()];
    // The last key changes fastest.
    for (slot, a) in values.iter_mut().zip(axes).rev() {
        let n = a.values.len();
        *slot = (a.key, a.values[rest % n].clone());
        rest /= n;
    }
    Some(Config { index, values })
}

/// Every configuration of the grid, in index order.
pub fn expand(axes: &[Axis]) -> Vec<Config> {
    (0..).map_while(|i| config(axes, i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_parsed_checked_and_expanded_in_order() {
        let wb = parse_axis("weight-bits=4,6,8").unwrap();
        let lanes = parse_axis("lanes=auto,2,4/2").unwrap();
        assert_eq!(lanes.values, ["auto", "2", "4/2"]);
        let axes = [wb, lanes];
        assert_eq!(check(&axes), Ok(9));
        let all = expand(&axes);
        assert_eq!(all.len(), 9);
        assert_eq!(all[1].values, [(Key::WeightBits, "4".into()), (Key::Lanes, "2".into())]);
        assert_eq!(all[5].name(), "0005-weight-bits-6-lanes-4-2");
        assert_eq!(config(&axes, 9), None);
        assert_eq!(parse_axis("target=ice40-up5k").unwrap().values, ["ice40-up5k"]);
        assert_eq!(parse_axis("freq=24.0,12.5").unwrap().values, ["24", "12.5"]);
    }

    #[test]
    fn bad_grids_are_refused_naming_the_key() {
        for (text, what) in [
            ("weight-bits=1", "weight-bits=1: not an integer from 2 to 16"),
            ("time-bits=17", "time-bits=17"),
            ("colour=red", "`colour` is not an option"),
            ("lanes=many", "lanes=many"),
            ("target=virtex", "target=virtex"),
            ("budget=0", "budget=0"),
            ("freq=nan", "freq=nan"),
            ("margin=-1", "margin=-1"),
            ("seed=4,4", "the value 4 is given twice"),
            ("weight-bits", "write KEY=V1,V2"),
            ("weight-bits=", "weight-bits="),
        ] {
            let err = parse_axis(text).unwrap_err();
            assert!(err.contains(what), "{text}: {err}");
        }
        let twice = [parse_axis("seed=1").unwrap(), parse_axis("seed=2").unwrap()];
        assert!(check(&twice).unwrap_err().contains("seed is given twice"));
        let many: Vec<Axis> = ["seed", "margin", "freq"]
            .iter()
            .map(|k| {
                parse_axis(&format!("{k}={}", (1..=100).map(|v| v.to_string()).collect::<Vec<_>>().join(","))).unwrap()
            })
            .collect();
        assert!(check(&many).unwrap_err().contains("1000000 configurations"));
    }

    #[test]
    fn grid_files_read_like_grid_options() {
        let text = "# a sweep\n[grid]\nweight-bits = [4, 6]\nlanes = [\"auto\", 2, \"4/2\"]\nfreq = 12.5\n";
        let axes = from_toml(text, "g.toml").unwrap();
        assert_eq!(
            axes,
            vec![
                parse_axis("weight-bits=4,6").unwrap(),
                parse_axis("lanes=auto,2,4/2").unwrap(),
                parse_axis("freq=12.5").unwrap()
            ]
        );
        for (text, what) in [
            ("[grid]\ncolour = [1]\n", "g.toml: `colour` is not an option"),
            ("[grid]\nweight-bits = [1]\n", "g.toml: weight-bits=1"),
            ("[grid]\nseed = [true]\n", "seed holds a boolean"),
            ("[other]\n", "`other` is not allowed"),
            ("seed = 1\n", "`seed` is not allowed"),
            ("[grid\n", "g.toml is not TOML"),
        ] {
            let err = from_toml(text, "g.toml").unwrap_err();
            assert!(err.contains(what), "{text}: {err}");
        }
    }
}
