//! Timing of the merge engines in-process on 5,000-line files:
//! `cargo bench --bench hook_merge` (bench/hook.sh runs it).

use packwright_hook::merge::{ConfigSyntax, Src};
use std::path::Path;
use std::time::Instant;

const SECTIONS: usize = 250;
const KEYS: usize = 9;

fn gen(
    f: ConfigSyntax,
    version: u32,
    changed: &dyn Fn(usize, usize) -> Option<String>,
    drop: &dyn Fn(usize, usize) -> bool,
    add: &dyn Fn(usize) -> Option<(String, String)>,
) -> String {
    let mut out = String::new();
    match f {
        ConfigSyntax::Yaml => out += &format!("# generated benchmark config\nversion: {version}\n"),
        _ => out += &format!("# generated benchmark config\nversion = {version}\n"),
    }
    for s in 0..SECTIONS {
        match f {
            ConfigSyntax::Yaml => out += &format!("# section {s}\nsection{s}:\n"),
            _ => out += &format!("\n[section{s}]\n"),
        }
        for k in 0..KEYS {
            if drop(s, k) {
                continue;
            }
            let v = changed(s, k).unwrap_or_else(|| format!("value{s}x{k}"));
            match f {
                ConfigSyntax::Yaml => {
                    out += &format!("  # key {k} of section {s}\n  key{k}: {v}\n")
                }
                _ => out += &format!("# key {k} of section {s}\nkey{k} = \"{v}\"\n"),
            }
        }
        if let Some((k, v)) = add(s) {
            match f {
                ConfigSyntax::Yaml => out += &format!("  {k}: {v}\n"),
                _ => out += &format!("{k} = \"{v}\"\n"),
            }
        }
    }
    out
}

fn main() {
    for f in [ConfigSyntax::Yaml, ConfigSyntax::Toml] {
        let none = |_: usize, _: usize| None;
        let keep = |_: usize, _: usize| false;
        let no_add = |_: usize| None;
        let base = gen(f, 1, &none, &keep, &no_add);
        let ours = gen(
            f,
            1,
            &|s, k| (s % 2 == 0 && (k == 1 || k == 4)).then(|| format!("admin{s}x{k}")),
            &keep,
            &|s| (s % 10 == 0).then(|| ("mine".into(), format!("m{s}"))),
        );
        let theirs = gen(
            f,
            2,
            &|s, k| (s % 3 == 0 && (k == 4 || k == 7)).then(|| format!("new{s}x{k}")),
            &|s, k| s % 10 == 0 && k == 8,
            &|s| (s % 10 == 5).then(|| ("fresh".into(), format!("f{s}"))),
        );
        let p = Path::new("bench");
        let src = |text| Src { path: p, text };
        let e = f.engine();
        let mut times = Vec::new();
        for _ in 0..11 {
            let t = Instant::now();
            let m = e
                .merge(src(&base), src(&ours), src(&theirs), Some("version"))
                .unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(m.note.is_none());
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let t = Instant::now();
        e.validate(src(&ours)).unwrap();
        let parse = t.elapsed().as_secs_f64() * 1000.0;
        if f == ConfigSyntax::Yaml {
            let t = Instant::now();
            let _ = yaml_rust2::YamlLoader::load_from_str(&ours).unwrap();
            println!(
                "yaml-rust2 load alone {:.1} ms",
                t.elapsed().as_secs_f64() * 1000.0
            );
        }
        println!(
            "{f:?}: {} lines, merge median {:.1} ms, one parse {:.1} ms",
            ours.lines().count(),
            times[5],
            parse
        );
    }
}
