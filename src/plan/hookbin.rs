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

/// The default hook: `packwright-hook` beside the running `packwright`.
pub fn default_path() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join("packwright-hook"))
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
                    "`{shown}` is dynamically linked; packages need a static hook (it runs in minimal roots and on musl): build it in packwright's source tree with `{BUILD_STATIC}` and set `[hook] binary = \"target/x86_64-unknown-linux-gnu/hook/packwright-hook\"`"
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
