//! The `[proxmox]` section and Proxmox VE's environment variables (`PROXMOX_VE_ENDPOINT`,
//! `PROXMOX_VE_API_TOKEN`, the names the Proxmox VE Terraform provider reads too), resolved.

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::{read_secret_file, ConfigError, Secret, Sources};

/// `[proxmox]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxmoxSection {
    /// Any node's API (`https://pve1:8006`); `/api2/json` is appended.
    pub url: Option<String>,
    /// An API token `USER@REALM!TOKENID=SECRET` (prefer PROXMOX_VE_API_TOKEN or `token_file`).
    pub token: Option<Secret>,
    /// A file whose first line is the API token.
    pub token_file: Option<PathBuf>,
}

/// Proxmox VE settings, resolved.
#[derive(Debug, Clone, Default)]
pub struct ProxmoxConfig {
    pub url: Option<String>,
    /// `USER@REALM!TOKENID=SECRET`, sent as `Authorization: PVEAPIToken=…`.
    pub token: Option<Secret>,
}

/// The token's shape as pve-access-control parses it (`verify_token` splits at the last `=`;
/// `token_full_regex` is `user@realm!tokenid`, realm and token id `[A-Za-z][A-Za-z0-9.\-_]+`,
/// user `[^\s:/]+`: src/PVE/AccessControl.pm L280-300, L487-516, src/PVE/Auth/Plugin.pm L34-35).
/// `PVEAPIToken=` in front (the whole header value) is accepted and removed.
///
/// # Errors
/// What is wrong, in words that never repeat the secret.
pub fn normalize_token(given: &str) -> Result<Secret, String> {
    let text = given.trim();
    let text = text.strip_prefix("PVEAPIToken=").unwrap_or(text);
    let Some((id, secret)) = text.rsplit_once('=') else {
        return Err("expected USER@REALM!TOKENID=SECRET (no '=' before the secret)".into());
    };
    let name = |s: &str| {
        s.len() >= 2
            && s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
    };
    let valid = id.split_once('@').is_some_and(|(user, rest)| {
        !user.is_empty()
            && !user.contains(|c: char| c.is_whitespace() || c == ':' || c == '/')
            && rest
                .split_once('!')
                .is_some_and(|(realm, tokenid)| name(realm) && name(tokenid))
    });
    if !valid {
        return Err("expected USER@REALM!TOKENID=SECRET: the part before the last '=' is not a token id such as root@pam!preflight".into());
    }
    if secret.is_empty() || secret.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(
            "expected USER@REALM!TOKENID=SECRET: the secret after the last '=' is empty or holds spaces".into(),
        );
    }
    Ok(Secret::new(text.to_string()))
}

impl ProxmoxConfig {
    /// `[proxmox]` under the environment.
    ///
    /// # Errors
    /// A bad section, an unreadable token file or a token of the wrong shape.
    pub fn load(sources: &Sources) -> Result<ProxmoxConfig, ConfigError> {
        let file: ProxmoxSection = sources.section("proxmox")?;
        let (token, what) = match (sources.env("PROXMOX_VE_API_TOKEN"), file.token, file.token_file) {
            (Some(t), _, _) => (Some(Secret::new(t)), "PROXMOX_VE_API_TOKEN"),
            (None, Some(t), _) => (Some(t), "[proxmox] token"),
            (None, None, Some(p)) => (
                Some(read_secret_file("the Proxmox VE API token", &p)?),
                "[proxmox] token_file",
            ),
            (None, None, None) => (None, ""),
        };
        let token = token
            .map(|t| {
                normalize_token(t.expose()).map_err(|why| ConfigError::Value {
                    what,
                    given: "***".into(),
                    why,
                })
            })
            .transpose()?;
        Ok(ProxmoxConfig {
            url: sources.env("PROXMOX_VE_ENDPOINT").or(file.url),
            token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::plain("root@pam!preflight=1b3c1a2e-6f7d-4c1e-9a51-0f2b3c4d5e6f", true)]
    #[case::header_value("PVEAPIToken=audit@pve!ro=1b3c1a2e-6f7d-4c1e-9a51-0f2b3c4d5e6f", true)]
    #[case::dotted("svc.preflight@ldap-corp!token_1=abc", true)]
    #[case::no_secret("root@pam!preflight", false)]
    #[case::empty_secret("root@pam!preflight=", false)]
    #[case::no_token_id("root@pam=abc", false)]
    #[case::no_realm("root!x=abc", false)]
    #[case::secret_alone("1b3c1a2e-6f7d-4c1e-9a51-0f2b3c4d5e6f", false)]
    fn token_shapes(#[case] given: &str, #[case] ok: bool) {
        let r = normalize_token(given);
        assert_eq!(r.is_ok(), ok, "{given}: {r:?}");
        if let Err(why) = r {
            assert!(!why.contains("1b3c1a2e") && !why.contains("abc"), "{why}");
        } else {
            assert!(!r.unwrap().expose().starts_with("PVEAPIToken="));
        }
    }

    #[test]
    fn env_wins_and_a_bad_token_is_refused_without_echoing_it() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let file = crate::config::FileSource {
            name: "p.toml".into(),
            text: "[proxmox]\nurl = \"https://pve1:8006\"\ntoken = \"a@pam!ro=file-secret\"\n".into(),
        };
        let e = env(&[
            ("PROXMOX_VE_ENDPOINT", "https://pve2:8006"),
            ("PROXMOX_VE_API_TOKEN", "a@pam!ro=env-secret"),
        ]);
        let c = ProxmoxConfig::load(&Sources::new(Some(&file), &e)).unwrap();
        assert_eq!(c.url.as_deref(), Some("https://pve2:8006"));
        assert_eq!(c.token.as_ref().unwrap().expose(), "a@pam!ro=env-secret");
        assert!(!format!("{c:?}").contains("secret"), "{c:?}");
        let bad = env(&[("PROXMOX_VE_API_TOKEN", "CANARY-just-a-secret")]);
        let err = ProxmoxConfig::load(&Sources::new(None, &bad)).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("CANARY"), "{err}");
    }
}
