//! The page a user reads to add a repository: the exact lines for
//! sources.list, a .repo file, pacman.conf and /etc/apk/repositories, and
//! where the keys are. One `index.html` per repository and one at the top.

use super::{fsx, Repo};
use crate::error::Result;
use std::path::Path;

fn esc(s: &str) -> String {
    super::rpmmd::esc(s)
}

/// (title, shell lines) per repository kind.
pub fn apt(r: &Repo) -> String {
    let (n, u) = (&r.name, &r.url);
    format!(
        "sudo install -d -m 0755 /etc/apt/keyrings\n\
         sudo curl -fsSLo /etc/apt/keyrings/{n}.gpg {u}/keys/{n}.gpg\n\
         echo \"deb [signed-by=/etc/apt/keyrings/{n}.gpg] {u}/apt {s} {c}\" | sudo tee /etc/apt/sources.list.d/{n}.list\n\
         sudo apt update\nsudo apt install {n}\n",
        s = r.suite,
        c = r.component
    )
}

pub fn rpm(r: &Repo) -> String {
    let (n, u) = (&r.name, &r.url);
    format!(
        "sudo tee /etc/yum.repos.d/{n}.repo <<'EOF'\n[{n}]\nname={n}\nbaseurl={u}/rpm/$basearch\n\
         enabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey={u}/keys/{n}.asc\nEOF\nsudo dnf install {n}\n"
    )
}

pub fn pacman(r: &Repo, fpr: &str) -> String {
    let (n, u) = (&r.name, &r.url);
    format!(
        "curl -fsSLO {u}/keys/{n}.asc\nsudo pacman-key --add {n}.asc\nsudo pacman-key --lsign-key {fpr}\n\
         sudo tee -a /etc/pacman.conf <<'EOF'\n[{n}]\nSigLevel = Required\nServer = {u}/pacman/$arch\nEOF\n\
         sudo pacman -Sy {n}\n"
    )
}

pub fn apk(r: &Repo, key: &str) -> String {
    let (n, u) = (&r.name, &r.url);
    format!(
        "wget -O /etc/apk/keys/{key} {u}/keys/{key}\necho \"{u}/apk\" >> /etc/apk/repositories\n\
         apk update\napk add {n}\n"
    )
}

fn html(title: &str, sections: &[(String, String)]) -> String {
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{t}</title></head>\n<body>\n<h1>{t}</h1>\n",
        t = esc(title)
    );
    for (h, body) in sections {
        s.push_str(&format!("<h2>{}</h2>\n<pre>{}</pre>\n", esc(h), esc(body)));
    }
    s.push_str("<p>Public keys: <a href=\"keys/\">keys/</a> (OpenPGP binary <code>.gpg</code> for signed-by, armored <code>.asc</code>; apk <code>.rsa.pub</code>).</p>\n</body>\n</html>\n");
    s
}

/// Write `<dir>/<kind>/index.html` for each kind and `<dir>/index.html`.
pub fn write(dir: &Path, r: &Repo, sections: &[(&str, String)]) -> Result<()> {
    let all: Vec<(String, String)> = sections
        .iter()
        .map(|(k, body)| (format!("{k} ({})", title(k)), body.clone()))
        .collect();
    for (k, body) in sections {
        let page = html(
            &format!("{} {} repository", r.name, title(k)),
            &[(title(k).to_string(), body.clone())],
        )
        .replace("href=\"keys/\"", "href=\"../keys/\"");
        fsx::write(&dir.join(k).join("index.html"), page.as_bytes())?;
    }
    fsx::write(
        &dir.join("index.html"),
        html(&format!("{} package repositories", r.name), &all).as_bytes(),
    )
}

fn title(kind: &str) -> &'static str {
    match kind {
        "apt" => "Debian, Ubuntu: apt",
        "rpm" => "Fedora, RHEL: dnf",
        "pacman" => "Arch Linux: pacman",
        _ => "Alpine: apk",
    }
}
