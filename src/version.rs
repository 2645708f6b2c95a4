//! Version parsing and ordering for every scheme preflight meets.
//!
//! MAAS alone reports versions as `3.4.2`, `3.4.0-14321-g.1027c7664` (controllers), `2.9.2` with
//! a separate subversion, `2.5.0 from source` (dev builds), `1:3.4.10-0ubuntu1` (dpkg, with an
//! epoch), `3.5.0~rc1-…` (pre-releases) and targets like `3.5` or `v3.5`; Backend.AI writes
//! release candidates PEP 440 style (`26.4.4rc1`). All of them reduce to
//! `major.minor.patch` plus an optional pre-release tag; build metadata is dropped.

use std::cmp::Ordering;
use std::fmt;

use thiserror::Error;

/// A version reduced to what ordering needs.
///
/// Ordering: numeric `major`, `minor`, `patch`; then a pre-release (`~rc1`, `-beta2`) sorts
/// before the release it leads to. `raw` (what the system said) does not take part.
#[derive(Debug, Clone, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    /// Pre-release tag such as `rc1` or `beta2`.
    pub pre: Option<String>,
    /// The text as the system reported it.
    pub raw: String,
}

/// A version string with no leading `major.minor` number.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("'{0}' is not a version (expected something like 3.4 or 3.4.2)")]
pub struct VersionError(pub String);

impl Version {
    /// Parses leniently: optional dpkg epoch (`1:`), optional `v`, then `major[.minor[.patch]]`,
    /// then an optional pre-release introduced by `~` (or by `-`/`.` when followed by a letter),
    /// then anything (build numbers, git hashes, ` from source`), which is dropped.
    ///
    /// # Errors
    /// [`VersionError`] when the text does not start with a number (after epoch and `v`).
    pub fn parse(text: &str) -> Result<Version, VersionError> {
        let raw = text.trim();
        let mut s = raw;
        if let Some((epoch, rest)) = s.split_once(':') {
            if !epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit()) {
                s = rest;
            }
        }
        s = s.strip_prefix(['v', 'V']).unwrap_or(s);
        let mut nums = [0u64; 3];
        let mut count = 0;
        let mut rest = s;
        while count < 3 {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                break;
            }
            nums[count] = rest[..digits].parse().map_err(|_| VersionError(raw.to_string()))?;
            count += 1;
            rest = &rest[digits..];
            match rest.strip_prefix('.') {
                Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) && count < 3 => rest = r,
                _ => break,
            }
        }
        if count == 0 {
            return Err(VersionError(raw.to_string()));
        }
        // A letter right after the numbers starts a pre-release too (`26.4.4rc1`, PEP 440).
        let pre = ['~', '-', '.']
            .iter()
            .find_map(|sep| rest.strip_prefix(*sep))
            .or_else(|| rest.starts_with(|c: char| c.is_ascii_alphabetic()).then_some(rest))
            .filter(|r| r.starts_with(|c: char| c.is_ascii_alphabetic()))
            .map(|r| r.chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>())
            .filter(|p| !p.is_empty() && !p.starts_with("ubuntu") && p != "from");
        Ok(Version {
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
            pre,
            raw: raw.to_string(),
        })
    }

    /// The `major.minor` series this version belongs to (`3.4.2` → `3.4`).
    pub fn series(&self) -> Series {
        Series {
            major: self.major,
            minor: self.minor,
        }
    }

    /// `major.minor.patch[~pre]` without build metadata.
    pub fn normalized(&self) -> String {
        match &self.pre {
            Some(p) => format!("{}.{}.{}~{}", self.major, self.minor, self.patch, p),
            None => format!("{}.{}.{}", self.major, self.minor, self.patch),
        }
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(b),
            })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// A release series, `major.minor` (MAAS 3.4, Ubuntu 22.04).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Series {
    pub major: u64,
    pub minor: u64,
}

impl Series {
    /// Parses `3.4`, `v3.4`, `22.04`, or any full version (its series is taken).
    ///
    /// # Errors
    /// [`VersionError`] as [`Version::parse`].
    pub fn parse(text: &str) -> Result<Series, VersionError> {
        Version::parse(text).map(|v| v.series())
    }
}

impl fmt::Display for Series {
    /// Minor is zero-padded to two digits only when the major looks like a year-based release
    /// (Ubuntu `20.04`); MAAS series print as `3.4`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.major >= 10 {
            write!(f, "{}.{:02}", self.major, self.minor)
        } else {
            write!(f, "{}.{}", self.major, self.minor)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("3.4.2", 3, 4, 2, None)]
    #[case("3.4.0-14321-g.1027c7664", 3, 4, 0, None)]
    #[case("2.5.0 from source", 2, 5, 0, None)]
    #[case("1:3.4.10-0ubuntu1", 3, 4, 10, None)]
    #[case("3.5.0~rc1-16283-g.8bc7a3c23", 3, 5, 0, Some("rc1"))]
    #[case("3.5.0-beta2", 3, 5, 0, Some("beta2"))]
    #[case("26.4.4rc1", 26, 4, 4, Some("rc1"))]
    #[case("25.6.0a1", 25, 6, 0, Some("a1"))]
    #[case("v3.5", 3, 5, 0, None)]
    #[case("3", 3, 0, 0, None)]
    #[case(" 22.04 ", 22, 4, 0, None)]
    fn parses(
        #[case] text: &str,
        #[case] major: u64,
        #[case] minor: u64,
        #[case] patch: u64,
        #[case] pre: Option<&str>,
    ) {
        let v = Version::parse(text).unwrap();
        assert_eq!((v.major, v.minor, v.patch), (major, minor, patch));
        assert_eq!(v.pre.as_deref(), pre);
    }

    #[rstest]
    #[case("")]
    #[case("latest")]
    #[case("from source")]
    fn rejects(#[case] text: &str) {
        assert!(Version::parse(text).is_err());
    }

    #[test]
    fn orders_prerelease_before_release() {
        let rc = Version::parse("3.5.0~rc1").unwrap();
        let rel = Version::parse("3.5.0").unwrap();
        assert!(rc < rel);
        assert!(Version::parse("3.10.0").unwrap() > Version::parse("3.9.9").unwrap());
        assert_eq!(
            Version::parse("1:3.4.10-0ubuntu1").unwrap(),
            Version::parse("3.4.10").unwrap()
        );
    }

    #[test]
    fn series_display() {
        assert_eq!(Series::parse("22.04").unwrap().to_string(), "22.04");
        assert_eq!(Series::parse("3.4.2").unwrap().to_string(), "3.4");
    }
}
