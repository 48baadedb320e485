//! Which packwright-hook binary a package carries, and whether it can run
//! where the package goes: the hook runs in minimal roots and on musl, so a
//! Linux hook must be statically linked (no ELF interpreter) and built for
//! the package's architecture.

use super::Arch;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The command that builds a hook packages accept, for error messages.
pub const BUILD_STATIC: &str = "sh packaging/build-hook.sh";

/// What the binary is, read from its first bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    Elf { machine: u16, interp: bool },
    Pe,
    MachO,
    Other,
}

/// The variable that names the hook to use, ahead of every other place.
pub const HOOK_VAR: &str = "PACKWRIGHT_HOOK";

/// The Rust target the static hook of `arch` is built for.
fn triple(arch: Arch) -> Option<&'static str> {
    match arch.name() {
        "x86_64" => Some("x86_64-unknown-linux-gnu"),
        "aarch64" => Some("aarch64-unknown-linux-gnu"),
        _ => None,
    }
}

/// The hook a Linux package for `arch` carries when the manifest names none,
/// the first fit one of: `$PACKWRIGHT_HOOK`; `packwright-hook` beside the
/// running packwright (packages and archives of packwright install it
/// there); the static build in packwright's source tree (a checkout after
/// `sh packaging/build.sh`, or `cargo install --path .`, which builds in the
/// checkout's target/); else, when that source tree is still there and
/// `arch` is the host's, it is built once with packaging/build-hook.sh.
/// Err says every place tried and why each did not fit.
pub fn find(arch: Arch) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(HOOK_VAR) {
        let p = PathBuf::from(p);
        return match unfit(&p, "linux", arch) {
            None => Ok(p),
            Some(why) => Err(format!("{HOOK_VAR}: {why}")),
        };
    }
    let mut tried = Vec::new();
    let consider = |p: PathBuf, tried: &mut Vec<String>| {
        if !p.is_file() {
            tried.push(format!("{} (missing)", p.display()));
            return None;
        }
        match unfit(&p, "linux", arch) {
            None => Some(p),
            Some(why) => {
                tried.push(why);
                None
            }
        }
    };
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        if let Some(p) = consider(dir.join(packwright_hook::contract::HOOK_NAME), &mut tried) {
            return Ok(p);
        }
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR"));
    let built = triple(arch).map(|t| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|d| if d.is_absolute() { d } else { source.join(d) })
            .unwrap_or_else(|| source.join("target"));
        target.join(t).join("hook/packwright-hook")
    });
    if let Some(p) = built.clone().and_then(|p| consider(p, &mut tried)) {
        return Ok(p);
    }
    let script = source.join("packaging/build-hook.sh");
    let host = Arch::host();
    if script.is_file() && host == Some(arch) && built.is_some() {
        return build_in_source(source).map_err(|e| format!("{}; tried {}", e, tried.join("; ")));
    }
    Err(format!(
        "no static packwright-hook for {} was found; tried {}; set `[hook] binary` or {HOOK_VAR} to one built with `{BUILD_STATIC}` in packwright's source tree",
        arch.name(),
        tried.join("; ")
    ))
}

/// Builds the static hook in packwright's own source tree (once: later runs
/// find it there); cargo's progress goes to stderr.
fn build_in_source(source: &Path) -> Result<PathBuf, String> {
    let out = std::process::Command::new("sh")
        .arg("packaging/build-hook.sh")
        .current_dir(source)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {BUILD_STATIC} in {}: {e}", source.display()))?;
    let printed = String::from_utf8_lossy(&out.stdout);
    let path = printed.lines().last().unwrap_or("").trim();
    if !out.status.success() || path.is_empty() {
        return Err(format!(
            "building the static hook with {BUILD_STATIC} in {} failed ({})",
            source.display(),
            out.status
        ));
    }
    let p = Path::new(path);
    Ok(if p.is_absolute() {
        p.into()
    } else {
        source.join(p)
    })
}

pub fn kind(path: &Path) -> std::io::Result<Kind> {
    let mut head = Vec::new();
    std::fs::File::open(path)?
        .take(64 * 1024)
        .read_to_end(&mut head)?;
    Ok(classify(&head))
}

fn classify(b: &[u8]) -> Kind {
    if b.starts_with(b"MZ") {
        return Kind::Pe;
    }
    if b.len() >= 4 {
        let m = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        if matches!(
            m,
            0xfeedfacf | 0xcffaedfe | 0xfeedface | 0xcefaedfe | 0xcafebabe
        ) {
            return Kind::MachO;
        }
    }
    elf(b).unwrap_or(Kind::Other)
}

/// ELF header and program headers (64- and 32-bit, either byte order):
/// the machine, and whether a PT_INTERP (a dynamic loader) is requested.
fn elf(b: &[u8]) -> Option<Kind> {
    if !b.starts_with(b"\x7fELF") {
        return None;
    }
    let wide = *b.get(4)? == 2;
    let little = *b.get(5)? == 1;
    let u16_at = |o: usize| -> Option<u16> {
        let s: [u8; 2] = b.get(o..o + 2)?.try_into().ok()?;
        Some(if little {
            u16::from_le_bytes(s)
        } else {
            u16::from_be_bytes(s)
        })
    };
    let u32_at = |o: usize| -> Option<u32> {
        let s: [u8; 4] = b.get(o..o + 4)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(s)
        } else {
            u32::from_be_bytes(s)
        })
    };
    let u64_at = |o: usize| -> Option<u64> {
        let s: [u8; 8] = b.get(o..o + 8)?.try_into().ok()?;
        Some(if little {
            u64::from_le_bytes(s)
        } else {
            u64::from_be_bytes(s)
        })
    };
    let machine = u16_at(18)?;
    let (phoff, phentsize, phnum) = if wide {
        (u64_at(32)? as usize, u16_at(54)?, u16_at(56)?)
    } else {
        (u32_at(28)? as usize, u16_at(42)?, u16_at(44)?)
    };
    let mut interp = false;
    for i in 0..phnum as usize {
        // Program headers lie near the start; a truncated read means none we can see.
        let Some(t) = u32_at(phoff + i * phentsize as usize) else {
            break;
        };
        if t == 3 {
            interp = true;
        }
    }
    Some(Kind::Elf { machine, interp })
}

/// ELF `e_machine` for an architecture; None for `all`.
pub fn elf_machine(arch: Arch) -> Option<u16> {
    Some(match arch.name() {
        "x86_64" => 62,
        "aarch64" => 183,
        "armv7" => 40,
        "i686" => 3,
        "riscv64" => 243,
        _ => return None,
    })
}

/// Why `path` cannot be the hook of a package for `os` (linux, windows,
/// macos) and `arch`, or None when it can.
pub fn unfit(path: &Path, os: &str, arch: Arch) -> Option<String> {
    let k = match kind(path) {
        Ok(k) => k,
        Err(e) => return Some(format!("`{}` cannot be read: {e}", path.display())),
    };
    let shown = path.display();
    match (os, k) {
        ("windows", Kind::Pe) | ("macos", Kind::MachO) => None,
        ("windows", _) => Some(format!("`{shown}` is not a Windows executable")),
        ("macos", _) => Some(format!("`{shown}` is not a macOS (Mach-O) executable")),
        (_, Kind::Elf { machine, interp }) => {
            if Some(machine) != elf_machine(arch) {
                return Some(format!(
                    "`{shown}` is not built for {} (ELF machine {machine}); a package for another architecture needs a hook built for it: set `[hook] binary`",
                    arch.name()
                ));
            }
            interp.then(|| {
                format!(
                    "`{shown}` is dynamically linked; packages need a static hook (it runs in minimal roots and on musl): build one in packwright's source tree with `{BUILD_STATIC}` and name it in `[hook] binary` or {HOOK_VAR}"
                )
            })
        }
        (_, _) => Some(format!("`{shown}` is not a Linux (ELF) executable")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_running_test_binary() {
        // Test binaries are dynamically linked executables for the host.
        let exe = std::env::current_exe().unwrap();
        match kind(&exe).unwrap() {
            Kind::Elf { interp, .. } => assert!(interp, "test binaries use ld.so"),
            k => panic!("expected ELF, got {k:?}"),
        }
        assert_eq!(classify(b"MZ\x90\0"), Kind::Pe);
        assert_eq!(classify(&[0xcf, 0xfa, 0xed, 0xfe, 0, 0]), Kind::MachO);
        assert_eq!(classify(b"#!/bin/sh\n"), Kind::Other);
    }
}
