//! Ansible inventories, INI and YAML, read the way Ansible reads them, so that
//! `preflight scan --hosts inventory.ini` learns which hosts to SSH into and with which
//! `ansible_host`, `ansible_port` and `ansible_user`.
//!
//! # Sources
//!
//! Every rule here comes from ansible-core 2.19 (repository `ansible/ansible`), checked against
//! `ansible-inventory --list` by `tests/oracle.rs`:
//!
//! - `lib/ansible/plugins/inventory/ini.py`: sections, `:vars`/`:children`, pending declarations,
//!   host lines split by `shlex.split(line, comments=True)`, values through `ast.literal_eval`.
//! - `lib/ansible/plugins/inventory/yaml.py`: `all: {hosts, vars, children}` and the
//!   `yaml_extensions` option (`.yaml`, `.yml`, `.json`, or no extension).
//! - `lib/ansible/plugins/inventory/__init__.py`: `_expand_hostpattern` and
//!   `expand_hostname_range` (`[01:03]`, `[1:10:2]`, `[a:c]`).
//! - `lib/ansible/parsing/utils/addresses.py`: `parse_address` (`host:port`, `[v6]:port`).
//! - `lib/ansible/inventory/data.py` (`add_host`, `reconcile_inventory`: roots under `all`,
//!   `ungrouped`), `inventory/host.py` (the port of `host:port` is set when the host is first
//!   created), `inventory/group.py` (`depth`, recursive loops, `ansible_group_priority`).
//! - `lib/ansible/inventory/helpers.py` `sort_groups` (key `(depth, priority, name)`) and
//!   `lib/ansible/vars/manager.py` with `VARIABLE_PRECEDENCE` in `config/base.yml`: `all`
//!   vars, then every other group of the host in that order, then host vars.
//! - The inventory guide, docs.ansible.com `inventory_guide/intro_inventory.html`.
//!
//! Facts from the code that the docs do not say: `[g:vars]` values go through
//! `ast.literal_eval` like host-line values (`x=23` is the integer 23, `x=abc # c` the text
//! `abc # c`, `x=23 # c` the integer 23); `#` ends a host line even inside a word (`pw=ab#c` is
//! `ab`); group names are kept as written (`TRANSFORM_INVALID_GROUP_CHARS` defaults to `never`);
//! a `[g:children]` entry or `[g:vars]` may come before `[g]`, but `g` must be declared by a
//! `[g]` or `[g:children]` section somewhere; `ansible_group_priority` on a group orders it
//! among groups of the same depth (honoured here); the same host in several groups keeps the
//! port of the first `name:port` that named it, later variables winning.
//!
//! # Format detection
//!
//! Ansible tries its `yaml` plugin before its `ini` plugin, and the `yaml` plugin only looks at
//! files named `*.yaml`, `*.yml`, `*.json` or without an extension. [`parse`] does the same with
//! `origin`: for those names the text is read as YAML and, when it is a non-empty mapping, is a
//! YAML inventory; when it is not YAML, or not a mapping, it is read as INI (for a `.yaml`/`.yml`/
//! `.json` name a failing INI read reports the YAML problem instead). Any other name is INI.
//!
//! # Where this differs from Ansible, on purpose
//!
//! - Values are text, not typed data: strings as they are; numbers, booleans, `null`/`None`
//!   (as `""`, as Jinja renders it) and lists/mappings (Python `str()`) as Ansible prints them.
//! - `ansible_port` must be a port number (1–65535, as an integer or digits); Ansible would
//!   only fail at connection time. No Jinja templating is done (`{{ … }}` stays as written).
//! - A numeric range whose begin is above its end (`[5:1]`) is an error; Ansible silently
//!   expands it to no host. Ranges over 100,000 hosts, and inventories over 1,000,000 host
//!   entries, are errors. Range bounds are ASCII digits or one ASCII letter.
//! - A YAML group whose value is not a mapping or empty is an error (Ansible warns and skips it
//!   at top level). Unknown keys inside a YAML group are skipped, as Ansible does (it warns).
//! - YAML scalars follow YAML 1.2 (`serde_yaml_ng`), Ansible's PyYAML follows YAML 1.1: `yes`,
//!   `no`, `on`, `off` stay text (Ansible: booleans), `017` stays text (Ansible: 15), `0o17` is
//!   15 (Ansible: text), `1_000` and `1:30` stay text. Duplicate YAML keys are an error.
//! - INI values go through a subset of Python's `ast.literal_eval`: strings with their prefixes
//!   and escapes (not `\N{…}`), integers, floats, `True`/`False`/`None`, lists, tuples, sets,
//!   dicts. Complex numbers and f-strings stay as written.
//! - `ansible_ssh_host`/`ansible_ssh_port`/`ansible_ssh_user` are kept in `vars` only; Ansible's
//!   `inventory_file`/`inventory_dir` are not added; `group_vars/`/`host_vars/` are not read.
//! - A leading UTF-8 byte-order mark is ignored.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_yaml_ng::Value as Yaml;

/// Most hosts one range pattern may expand to (`web[1:100000]` is the largest).
const MAX_RANGE_HOSTS: u128 = 100_000;
/// Most host entries (hosts of every host line or YAML host key, repeats included) an inventory
/// may have.
const MAX_HOST_ENTRIES: usize = 1_000_000;
/// Deepest nesting of YAML `children` (each level is two YAML levels, and `serde_yaml_ng` stops at
/// 128, so this is a guard, not a limit one meets).
const MAX_YAML_GROUP_DEPTH: usize = 100;
/// Python's parser fails on more than 200 nested brackets ("too many nested parentheses").
const MAX_LITERAL_NESTING: usize = 199;
/// Python refuses integer literals of more than 4,300 digits (`sys.get_int_max_str_digits()`).
const MAX_INT_DIGITS: usize = 4300;

/// One host of an inventory, with the variables that apply to it (group vars inherited, host vars
/// winning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryHost {
    /// The inventory name (`region-1`, or an alias), after range expansion and without a
    /// `:port` suffix.
    pub name: String,
    /// `ansible_host` (the address to connect to), if set and not null.
    pub address: Option<String>,
    /// `ansible_port` (TCP port, 1–65535), if set and not null: from the variable, or from the
    /// `name:port` shorthand of the line that first named the host.
    pub port: Option<u16>,
    /// `ansible_user`, if set and not null.
    pub user: Option<String>,
    /// The groups it belongs to, directly or through `children`, sorted by name, without
    /// `all`/`ungrouped`.
    pub groups: Vec<String>,
    /// Every variable as text (numbers/bools printed as Ansible would show them in INI), host vars
    /// over child-group vars over parent-group vars over `all` vars.
    ///
    /// Text is the string itself; integers in decimal; floats as Python's `repr` (`1.0`,
    /// `1e+20`); booleans `True`/`False`; null/`None` as empty text; lists and mappings as
    /// Python's `str()` (`[1, 'a']`, `{'k': None}`). `ansible_group_priority` set on a group is
    /// not a variable (Ansible keeps it as the group's priority).
    pub vars: BTreeMap<String, String>,
}

/// Why an inventory could not be read. Every variant names the file (`origin`, as given to
/// [`parse`]) and, where one is known, the 1-based line; YAML inventories only have lines for
/// syntax errors (`serde_yaml_ng` values carry no positions).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InventoryError {
    /// The text is not valid YAML (only reported for `.yaml`/`.yml`/`.json` names whose text is
    /// not an INI inventory either). `message` is `serde_yaml_ng`'s.
    #[error("{}: YAML syntax error: {message}", loc(origin, line))]
    YamlSyntax {
        /// The inventory's name.
        origin: String,
        /// The line of the error, if the YAML parser gave one.
        line: Option<usize>,
        /// What the YAML parser said.
        message: String,
    },
    /// The YAML document is not an inventory: not a mapping, a plugin configuration
    /// (`plugin:` key), a group that is not a mapping, a `hosts`/`vars`/`children` entry or host
    /// variables that are not mappings, or `children` nested too deep.
    #[error("{origin}: not an Ansible YAML inventory: {message}")]
    NotAnInventory {
        /// The inventory's name.
        origin: String,
        /// What shape was found where.
        message: String,
    },
    /// An INI host line has a quote that is never closed (`shlex`: "No closing quotation").
    #[error("{origin}:{line}: unclosed quote in host line `{text}`")]
    UnclosedQuote {
        /// The inventory's name.
        origin: String,
        /// The line.
        line: usize,
        /// The line's text, trimmed.
        text: String,
    },
    /// An INI host line ends with a backslash (`shlex`: "No escaped character").
    #[error("{origin}:{line}: host line ends with a backslash: `{text}`")]
    TrailingBackslash {
        /// The inventory's name.
        origin: String,
        /// The line.
        line: usize,
        /// The line's text, trimmed.
        text: String,
    },
    /// An INI `[section]` header that is malformed (spaces, empty name) or of an unknown type
    /// (only `[g]`, `[g:vars]`, `[g:children]` exist).
    #[error("{origin}:{line}: bad section header `{header}`: {reason}")]
    BadSection {
        /// The inventory's name.
        origin: String,
        /// The line.
        line: usize,
        /// The header as written.
        header: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A line in an INI `[g:vars]` section without `=`, or a word after the host on a host line
    /// without `=`.
    #[error("{origin}:{line}: expected key=value, got `{text}`")]
    ExpectedKeyValue {
        /// The inventory's name.
        origin: String,
        /// The line.
        line: usize,
        /// The offending text.
        text: String,
    },
    /// A line in an INI `[g:children]` section that is not one group name.
    #[error("{origin}:{line}: expected a group name, got `{text}`")]
    BadGroupName {
        /// The inventory's name.
        origin: String,
        /// The line.
        line: usize,
        /// The offending text.
        text: String,
    },
    /// An INI `[g:vars]` section, or a `[p:children]` entry, names a group that is never declared
    /// by a `[g]` or `[g:children]` section (Ansible reports the first one; so does this).
    #[error("{origin}:{line}: section [{section}] refers to undefined group `{group}`")]
    UndefinedGroup {
        /// The inventory's name.
        origin: String,
        /// The line of the `[g:vars]` header or of the `children` entry.
        line: usize,
        /// The undefined group.
        group: String,
        /// The section (`g:vars`, `p:children`).
        section: String,
    },
    /// A host pattern that names no host: empty, ending in `:` without a port, `---` (a YAML
    /// document marker in an INI file), or a YAML host key that is not a string.
    #[error("{}: bad host pattern `{pattern}`: {reason}", loc(origin, line))]
    BadHostPattern {
        /// The inventory's name.
        origin: String,
        /// The line (INI only).
        line: Option<usize>,
        /// The pattern as written.
        pattern: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A `[x:y]`/`[x:y:step]` host range that cannot be expanded (see `expand_hostname_range`).
    #[error("{}: bad host range in `{pattern}`: {reason}", loc(origin, line))]
    BadRange {
        /// The inventory's name.
        origin: String,
        /// The line (INI only).
        line: Option<usize>,
        /// The host pattern.
        pattern: String,
        /// What is wrong with the range.
        reason: &'static str,
    },
    /// A host pattern whose ranges expand to more than `limit` (100,000) hosts.
    #[error("{}: host pattern `{pattern}` expands to more than {limit} hosts", loc(origin, line))]
    RangeTooLarge {
        /// The inventory's name.
        origin: String,
        /// The line (INI only).
        line: Option<usize>,
        /// The host pattern.
        pattern: String,
        /// The most hosts a pattern may expand to.
        limit: u128,
    },
    /// The inventory has more than `limit` (1,000,000) host entries, repeats included.
    #[error("{origin}: more than {limit} host entries")]
    TooManyHosts {
        /// The inventory's name.
        origin: String,
        /// The most host entries an inventory may have.
        limit: usize,
    },
    /// A host's `ansible_port` (after inheritance), or the port of a `name:port` pattern, is
    /// not a port number 1–65535.
    #[error(
        "{}: host `{host}`: ansible_port `{value}` is not a port number (1-65535)",
        loc(origin, line)
    )]
    BadPort {
        /// The inventory's name.
        origin: String,
        /// The line where that value was set (INI only).
        line: Option<usize>,
        /// The host.
        host: String,
        /// The value, as text.
        value: String,
    },
    /// `ansible_group_priority` set on a group to something that is not an integer (Ansible
    /// applies `int()` to it).
    #[error(
        "{}: group `{group}`: ansible_group_priority `{value}` is not an integer",
        loc(origin, line)
    )]
    BadGroupPriority {
        /// The inventory's name.
        origin: String,
        /// The line (INI only).
        line: Option<usize>,
        /// The group.
        group: String,
        /// The value, as text.
        value: String,
    },
    /// Making `child` a child of `parent` would make a group its own descendant (Ansible:
    /// "creates a recursive dependency loop"). `parent` is `all` when the loop closes through
    /// the implicit `all` root.
    #[error(
        "{}: group `{child}` under `{parent}` makes a group its own descendant",
        loc(origin, line)
    )]
    GroupCycle {
        /// The inventory's name.
        origin: String,
        /// The line of the `children` entry (INI only).
        line: Option<usize>,
        /// The would-be parent.
        parent: String,
        /// The would-be child.
        child: String,
    },
}

/// `origin:line` or `origin`, for messages.
fn loc(origin: &str, line: &Option<usize>) -> String {
    match line {
        Some(line) => format!("{origin}:{line}"),
        None => origin.to_string(),
    }
}

/// Parses inventory `text` read from `origin` (a path, for messages). YAML when the document is a
/// YAML mapping (Ansible's YAML inventory plugin), else INI (Ansible's ini plugin). Hosts in file
/// order of first appearance, each once.
///
/// Detection, as Ansible's plugin order (`yaml` before `ini`) and the yaml plugin's
/// `verify_file` decide it: when `origin`'s file name has no extension or ends in `.yaml`, `.yml`
/// or `.json` (its default `yaml_extensions`) and `text` is a non-empty YAML mapping, it is a
/// YAML inventory; otherwise it is INI (`hosts.ini` is never YAML, `hosts` and `hosts.yml` holding
/// INI text are INI). For a `.yaml`/`.yml`/`.json` name whose text is neither, the error is
/// [`InventoryError::YamlSyntax`] or [`InventoryError::NotAnInventory`]; for other names it is
/// the INI error. Empty text is an empty inventory. `origin` is only looked at, never opened.
///
/// # Errors
///
/// Any [`InventoryError`]: the first problem met, in file order (group loops and bad ports are
/// found after the whole file is read).
pub fn parse(text: &str, origin: &str) -> Result<Vec<InventoryHost>, InventoryError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let ext = extension(origin);
    let yaml_named = matches!(ext, Some(".yaml" | ".yml" | ".json"));
    if !(ext.is_none() || yaml_named) {
        return parse_ini(text, origin);
    }
    let not_yaml = match serde_yaml_ng::from_str::<Yaml>(text) {
        Ok(Yaml::Mapping(map)) if !map.is_empty() => return parse_yaml(&map, origin),
        Ok(other) => InventoryError::NotAnInventory {
            origin: origin.to_string(),
            message: format!("the document is {}, not a mapping of groups", kind(&other)),
        },
        Err(err) => InventoryError::YamlSyntax {
            origin: origin.to_string(),
            line: err.location().map(|l| l.line()),
            message: err.to_string(),
        },
    };
    match parse_ini(text, origin) {
        Ok(hosts) => Ok(hosts),
        Err(_) if yaml_named => Err(not_yaml),
        Err(err) => Err(err),
    }
}

/// Python's `os.path.splitext(path)[1]` of the last path component: `None` for `hosts` or
/// `.hosts`.
fn extension(origin: &str) -> Option<&str> {
    let name = origin.rsplit(['/', '\\']).next().unwrap_or(origin);
    let stem_len = name.len() - name.trim_start_matches('.').len();
    let dot = name[stem_len..].rfind('.')? + stem_len;
    Some(&name[dot..])
}

// ---------------------------------------------------------------------------------------------
// Values

/// A variable's value, as Ansible holds it after the INI `literal_eval` or the YAML load.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Null,
    Bool(bool),
    Int(i128),
    /// A decimal integer too large for `i128`, as its digits (with a sign).
    BigInt(String),
    Float(f64),
    Str(String),
    List(Vec<Val>),
    Dict(Vec<(Val, Val)>),
}

impl Val {
    /// The value as text: what `InventoryHost::vars` holds.
    fn text(&self) -> String {
        match self {
            Val::Null => String::new(),
            Val::Str(s) => s.clone(),
            other => other.repr(),
        }
    }

    /// Python's `repr` (what `str()` shows inside a list or dict).
    fn repr(&self) -> String {
        match self {
            Val::Null => "None".to_string(),
            Val::Bool(true) => "True".to_string(),
            Val::Bool(false) => "False".to_string(),
            Val::Int(i) => i.to_string(),
            Val::BigInt(s) => s.clone(),
            Val::Float(f) => py_float_repr(*f),
            Val::Str(s) => py_str_repr(s),
            Val::List(items) => {
                let items: Vec<String> = items.iter().map(Val::repr).collect();
                format!("[{}]", items.join(", "))
            }
            Val::Dict(items) => {
                let items: Vec<String> = items
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.repr(), v.repr()))
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
        }
    }

    /// Python truthiness.
    fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Bool(b) => *b,
            Val::Int(i) => *i != 0,
            Val::BigInt(_) => true,
            Val::Float(f) => *f != 0.0,
            Val::Str(s) => !s.is_empty(),
            Val::List(l) => !l.is_empty(),
            Val::Dict(d) => !d.is_empty(),
        }
    }

    /// Python's `int(value)`, for `ansible_group_priority`.
    fn as_int(&self) -> Option<i64> {
        match self {
            Val::Bool(b) => Some(i64::from(*b)),
            Val::Int(i) => i64::try_from(*i).ok(),
            Val::Float(f) if f.is_finite() && f.trunc().abs() < 9.0e18 => Some(f.trunc() as i64),
            Val::Str(s) => {
                let t = s.trim().replace('_', "");
                if s.trim().starts_with('_') || s.trim().ends_with('_') || s.contains("__") {
                    return None;
                }
                t.parse::<i64>().ok()
            }
            _ => None,
        }
    }

    fn from_yaml(y: &Yaml) -> Val {
        match y {
            Yaml::Null => Val::Null,
            Yaml::Bool(b) => Val::Bool(*b),
            Yaml::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Val::Int(i128::from(i))
                } else if let Some(u) = n.as_u64() {
                    Val::Int(i128::from(u))
                } else {
                    Val::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Yaml::String(s) => Val::Str(s.clone()),
            Yaml::Sequence(items) => Val::List(items.iter().map(Val::from_yaml).collect()),
            Yaml::Mapping(map) => Val::Dict(
                map.iter()
                    .map(|(k, v)| (Val::from_yaml(k), Val::from_yaml(v)))
                    .collect(),
            ),
            Yaml::Tagged(tagged) => Val::from_yaml(&tagged.value),
        }
    }
}

/// Python's `repr(float)`: shortest round-trip digits, positional for exponents -4..16, else
/// `d.ddde+XX`.
fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let int_len = usize::try_from(exp).unwrap_or(0) + 1;
            let mut int_part: String = digits.chars().take(int_len).collect();
            while int_part.len() < int_len {
                int_part.push('0');
            }
            let frac: String = digits.chars().skip(int_len).collect();
            let frac = if frac.is_empty() { "0".to_string() } else { frac };
            format!("{sign}{int_part}.{frac}")
        } else {
            let zeros = "0".repeat(usize::try_from(-exp - 1).unwrap_or(0));
            format!("{sign}0.{zeros}{digits}")
        }
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let dot = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{dot}e{exp_sign}{:02}", exp.unsigned_abs())
    }
}

/// Python's `repr(str)`.
fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || (c.is_whitespace() && c != ' ') => {
                let n = u32::from(c);
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n < 0x10000 {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn kind(y: &Yaml) -> &'static str {
    match y {
        Yaml::Null => "empty",
        Yaml::Bool(_) => "a boolean",
        Yaml::Number(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Sequence(_) => "a list",
        Yaml::Mapping(_) => "a mapping",
        Yaml::Tagged(_) => "a tagged value",
    }
}

// ---------------------------------------------------------------------------------------------
// The inventory being built (Ansible's InventoryData, Group and Host)

const ALL: usize = 0;
const UNGROUPED: usize = 1;

/// A variable and the line that set it.
#[derive(Debug, Clone)]
struct Var {
    value: Val,
    line: Option<usize>,
}

#[derive(Debug)]
struct Group {
    name: String,
    vars: BTreeMap<String, Var>,
    parents: Vec<usize>,
    children: Vec<usize>,
    priority: i64,
}

#[derive(Debug)]
struct Host {
    name: String,
    vars: BTreeMap<String, Var>,
    /// Groups the host was put in directly, in order.
    groups: Vec<usize>,
}

struct Inventory<'a> {
    origin: &'a str,
    groups: Vec<Group>,
    group_ids: HashMap<String, usize>,
    hosts: Vec<Host>,
    host_ids: HashMap<String, usize>,
    /// Every `parent → child` edge once, in the order made, with the line that made it.
    edges: Vec<(usize, usize, Option<usize>)>,
    edge_set: HashSet<(usize, usize)>,
    /// `(host, group)` for every direct membership.
    memberships: HashSet<(usize, usize)>,
    entries: usize,
}

/// What every host with the same direct groups shares: its groups (by precedence) and the group
/// variables merged in that order.
struct Layers<'v> {
    names: Vec<String>,
    vars: BTreeMap<&'v str, &'v Var>,
}

impl<'a> Inventory<'a> {
    /// `InventoryData.__init__`: `all` and `ungrouped`, the latter a child of the former.
    fn new(origin: &'a str) -> Self {
        let mut inv = Inventory {
            origin,
            groups: Vec::new(),
            group_ids: HashMap::new(),
            hosts: Vec::new(),
            host_ids: HashMap::new(),
            edges: Vec::new(),
            edge_set: HashSet::new(),
            memberships: HashSet::new(),
            entries: 0,
        };
        inv.add_group("all");
        inv.add_group("ungrouped");
        inv.add_child(ALL, UNGROUPED, None);
        inv
    }

    fn has_group(&self, name: &str) -> bool {
        self.group_ids.contains_key(name)
    }

    fn add_group(&mut self, name: &str) -> usize {
        if let Some(&id) = self.group_ids.get(name) {
            return id;
        }
        let id = self.groups.len();
        self.groups.push(Group {
            name: name.to_string(),
            vars: BTreeMap::new(),
            parents: Vec::new(),
            children: Vec::new(),
            priority: 1,
        });
        self.group_ids.insert(name.to_string(), id);
        id
    }

    /// `Group.add_child_group`. Loops are looked for once the file is read
    /// ([`Inventory::check_loops`]), in the order the edges were made, so the edge reported is
    /// the one Ansible stops at.
    fn add_child(&mut self, parent: usize, child: usize, line: Option<usize>) {
        if self.edge_set.insert((parent, child)) {
            self.edges.push((parent, child, line));
            self.groups[parent].children.push(child);
            self.groups[child].parents.push(parent);
        }
    }

    /// `InventoryData.add_host`: creates the host on first sight (with the `name:port` port),
    /// and puts it in `group`.
    fn add_host(
        &mut self,
        name: &str,
        group: usize,
        port: Option<u16>,
        line: Option<usize>,
    ) -> Result<usize, InventoryError> {
        if name.is_empty() {
            return Err(InventoryError::BadHostPattern {
                origin: self.origin.to_string(),
                line,
                pattern: String::new(),
                reason: "empty host name",
            });
        }
        self.entries += 1;
        if self.entries > MAX_HOST_ENTRIES {
            return Err(InventoryError::TooManyHosts {
                origin: self.origin.to_string(),
                limit: MAX_HOST_ENTRIES,
            });
        }
        let id = match self.host_ids.get(name) {
            Some(&id) => id,
            None => {
                let id = self.hosts.len();
                let mut vars = BTreeMap::new();
                if let Some(port) = port {
                    vars.insert(
                        "ansible_port".to_string(),
                        Var {
                            value: Val::Int(i128::from(port)),
                            line,
                        },
                    );
                }
                self.hosts.push(Host {
                    name: name.to_string(),
                    vars,
                    groups: Vec::new(),
                });
                self.host_ids.insert(name.to_string(), id);
                id
            }
        };
        if self.memberships.insert((id, group)) {
            self.hosts[id].groups.push(group);
        }
        Ok(id)
    }

    fn set_host_var(&mut self, host: usize, key: String, value: Val, line: Option<usize>) {
        self.hosts[host].vars.insert(key, Var { value, line });
    }

    /// `Group.set_variable`: `ansible_group_priority` sets the priority instead.
    fn set_group_var(
        &mut self,
        group: usize,
        key: String,
        value: Val,
        line: Option<usize>,
    ) -> Result<(), InventoryError> {
        if key == "ansible_group_priority" {
            let Some(priority) = value.as_int() else {
                return Err(InventoryError::BadGroupPriority {
                    origin: self.origin.to_string(),
                    line,
                    group: self.groups[group].name.clone(),
                    value: value.text(),
                });
            };
            self.groups[group].priority = priority;
            return Ok(());
        }
        self.groups[group].vars.insert(key, Var { value, line });
        Ok(())
    }

    /// Groups parents-first over the first `edges` edges (Kahn's algorithm, no recursion);
    /// shorter than the group count when those edges hold a loop.
    fn topological_order(&self, edges: usize) -> Vec<usize> {
        let n = self.groups.len();
        let mut indegree = vec![0usize; n];
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &(parent, child, _) in &self.edges[..edges] {
            indegree[child] += 1;
            children[parent].push(child);
        }
        let mut queue: std::collections::VecDeque<usize> = (0..n).filter(|&g| indegree[g] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(g) = queue.pop_front() {
            order.push(g);
            for &c in &children[g] {
                indegree[c] -= 1;
                if indegree[c] == 0 {
                    queue.push_back(c);
                }
            }
        }
        order
    }

    /// The groups parents-first, or [`InventoryError::GroupCycle`] for the first edge (in the
    /// order made) that closes a loop, found by bisecting on the edges made so far.
    fn check_loops(&self) -> Result<Vec<usize>, InventoryError> {
        let n = self.groups.len();
        let order = self.topological_order(self.edges.len());
        if order.len() == n {
            return Ok(order);
        }
        // The first `ok` edges hold no loop, the first `bad` do.
        let (mut ok, mut bad) = (0, self.edges.len());
        while bad - ok > 1 {
            let mid = ok + (bad - ok) / 2;
            if self.topological_order(mid).len() == n {
                ok = mid;
            } else {
                bad = mid;
            }
        }
        let (parent, child, line) = self.edges[bad - 1];
        Err(InventoryError::GroupCycle {
            origin: self.origin.to_string(),
            line,
            parent: self.groups[parent].name.clone(),
            child: self.groups[child].name.clone(),
        })
    }

    /// `reconcile_inventory`, then each host's groups and variables (`VariableManager.get_vars`
    /// with the default `VARIABLE_PRECEDENCE`).
    fn finish(mut self) -> Result<Vec<InventoryHost>, InventoryError> {
        for g in 0..self.groups.len() {
            if g != ALL && self.groups[g].parents.is_empty() {
                self.add_child(ALL, g, None);
            }
        }
        let order = self.check_loops()?;
        let n = self.groups.len();
        let mut depth = vec![0usize; n];
        for &g in &order {
            for &c in &self.groups[g].children {
                depth[c] = depth[c].max(depth[g] + 1);
            }
        }
        let mut by_rank: Vec<usize> = (0..n).collect();
        by_rank.sort_by(|&a, &b| {
            let (ga, gb) = (&self.groups[a], &self.groups[b]);
            (depth[a], ga.priority, &ga.name).cmp(&(depth[b], gb.priority, &gb.name))
        });
        let mut rank = vec![0usize; n];
        for (r, &g) in by_rank.iter().enumerate() {
            rank[g] = r;
        }

        // A group set and its ancestors, walking parents without recursion.
        let mut seen = vec![false; n];
        let mut closure = |direct: &[usize]| -> Vec<usize> {
            let mut found: Vec<usize> = Vec::new();
            let mut stack: Vec<usize> = direct.to_vec();
            while let Some(g) = stack.pop() {
                if !std::mem::replace(&mut seen[g], true) {
                    found.push(g);
                    stack.extend(self.groups[g].parents.iter().copied());
                }
            }
            for &g in &found {
                seen[g] = false;
            }
            found
        };
        let mut shared: HashMap<Vec<usize>, Layers<'_>> = HashMap::new();
        let mut out = Vec::with_capacity(self.hosts.len());
        for host in &self.hosts {
            let mut direct = host.groups.clone();
            let groups = closure(&direct);
            if direct.contains(&UNGROUPED) {
                if groups.iter().any(|&g| g != ALL && g != UNGROUPED) {
                    direct.retain(|&g| g != UNGROUPED);
                }
            } else if groups.iter().all(|&g| g == ALL) {
                direct = vec![UNGROUPED];
            }
            direct.sort_unstable();
            if !shared.contains_key(&direct) {
                let mut groups = closure(&direct);
                groups.sort_unstable_by_key(|&g| rank[g]);
                let mut vars: BTreeMap<&str, &Var> = BTreeMap::new();
                for g in std::iter::once(ALL).chain(groups.iter().copied().filter(|&g| g != ALL)) {
                    for (k, v) in &self.groups[g].vars {
                        vars.insert(k, v);
                    }
                }
                let mut names: Vec<String> = groups
                    .iter()
                    .filter(|&&g| g != ALL && g != UNGROUPED)
                    .map(|&g| self.groups[g].name.clone())
                    .collect();
                names.sort();
                shared.insert(direct.clone(), Layers { names, vars });
            }
            let Some(layers) = shared.get(&direct) else { continue };
            let mut vars = layers.vars.clone();
            for (k, v) in &host.vars {
                vars.insert(k, v);
            }
            let text_of = |key: &str| vars.get(key).filter(|v| v.value != Val::Null).map(|v| v.value.text());
            let port = match vars.get("ansible_port") {
                None => None,
                Some(var) => port_of(&var.value).map_err(|value| InventoryError::BadPort {
                    origin: self.origin.to_string(),
                    line: var.line,
                    host: host.name.clone(),
                    value,
                })?,
            };
            out.push(InventoryHost {
                name: host.name.clone(),
                address: text_of("ansible_host"),
                port,
                user: text_of("ansible_user"),
                groups: layers.names.clone(),
                vars: vars.iter().map(|(k, v)| ((*k).to_string(), v.value.text())).collect(),
            });
        }
        Ok(out)
    }
}

/// `ansible_port` as a port number; `Ok(None)` for null; `Err(text)` for anything else.
fn port_of(value: &Val) -> Result<Option<u16>, String> {
    let port = match value {
        Val::Null => return Ok(None),
        Val::Int(i) => u16::try_from(*i).ok(),
        Val::Str(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse::<u16>().ok(),
        _ => None,
    };
    match port {
        Some(p) if p > 0 => Ok(Some(p)),
        _ => Err(value.text()),
    }
}

// ---------------------------------------------------------------------------------------------
// Host patterns: `parse_address` and `expand_hostname_range`

/// `_expand_hostpattern`: the host names of a pattern and the port of a `name:port` suffix.
fn expand_hostpattern(
    pattern: &str,
    origin: &str,
    line: Option<usize>,
) -> Result<(Vec<String>, Option<u16>), InventoryError> {
    let (host, port) = match parse_address(pattern) {
        Some((host, port)) => (host, port),
        None => (pattern, None),
    };
    let port = match port {
        None => None,
        Some(digits) => {
            // `Host(name, port)` keeps `int(port)` only when it is truthy.
            let value = digits.trim_start_matches('0');
            if value.is_empty() {
                None
            } else {
                Some(value.parse::<u16>().map_err(|_| InventoryError::BadPort {
                    origin: origin.to_string(),
                    line,
                    host: host.to_string(),
                    value: digits.to_string(),
                })?)
            }
        }
    };
    let names = if host.contains('[') {
        expand_ranges(host, origin, line)?
    } else {
        vec![host.to_string()]
    };
    Ok((names, port))
}

/// `parse_address(address, allow_ranges=True)`: `(host, port digits)`, or `None` when the
/// host part is not an IPv4/IPv6 address or a host name (then Ansible keeps the pattern whole).
fn parse_address(address: &str) -> Option<(&str, Option<&str>)> {
    let mut host = address;
    let mut port = None;
    // 'bracketed_hostport': ^\[(.+)\]:([0-9]+)$
    if let Some((inner, digits)) = split_port(host) {
        if let Some(inner) = inner.strip_prefix('[').and_then(|i| i.strip_suffix(']')) {
            if !inner.is_empty() {
                host = inner;
                port = Some(digits);
            }
        }
    }
    // 'hostport': ^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$
    if let Some((head, digits)) = split_port(host) {
        if is_hostport_head(head) {
            host = head;
            port = Some(digits);
        }
    }
    if is_hostname(host) || is_ipv6(host) {
        Some((host, port))
    } else {
        None
    }
}

/// `text` as `head:digits`, digits ASCII and non-empty.
fn split_port(text: &str) -> Option<(&str, &str)> {
    let digits_len = text.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits_len == 0 {
        return None;
    }
    let (head, digits) = text.split_at(text.len() - digits_len);
    Some((head.strip_suffix(':')?, digits))
}

/// `(?:[^:\[\]]|\[[^\]]*\])*`: no `:` or `]` outside complete `[...]` groups.
fn is_hostport_head(head: &str) -> bool {
    let mut chars = head.chars();
    while let Some(c) = chars.next() {
        match c {
            ':' | ']' => return false,
            '[' if !chars.by_ref().any(|c| c == ']') => return false,
            _ => {}
        }
    }
    true
}

/// The `hostname` pattern of `addresses.py` (which also covers `ipv4`): dot-separated labels of
/// word characters, `-` and ranges, starting with a word character or a range, not ending in
/// `-` or `_`.
fn is_hostname(host: &str) -> bool {
    host.split('.').all(|label| {
        let mut rest = label;
        let mut first = true;
        let mut last = None;
        while let Some(c) = rest.chars().next() {
            if c == '[' {
                let Some(len) = range_token_len(rest) else { return false };
                rest = &rest[len..];
                last = Some(']');
            } else if c.is_alphanumeric() || c == '_' || (c == '-' && !first) {
                rest = &rest[c.len_utf8()..];
                last = Some(c);
            } else {
                return false;
            }
            first = false;
        }
        !matches!(last, None | Some('-' | '_'))
    })
}

/// The length of an `alphanumeric_range` at the start of `text`:
/// `\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`, case-insensitive.
fn range_token_len(text: &str) -> Option<usize> {
    let inner_end = text.find(']')?;
    let inner = text.get(1..inner_end)?;
    let mut parts = inner.split(':');
    let (beg, end) = (parts.next()?, parts.next()?);
    let step = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let letter = |s: &str| s.len() == 1 && s.bytes().all(|b| b.is_ascii_alphabetic());
    let bounds_ok = (digits(beg) && digits(end)) || (letter(beg) && letter(end));
    (bounds_ok && step.is_none_or(digits)).then_some(inner_end + 1)
}

/// The `ipv6` pattern, with any `[x:y]` hexadecimal range standing for one component.
fn is_ipv6(host: &str) -> bool {
    let mut plain = String::with_capacity(host.len());
    let mut rest = host;
    while let Some(start) = rest.find('[') {
        plain.push_str(&rest[..start]);
        let Some(len) = rest[start..].find(']') else {
            return false;
        };
        let inner = &rest[start + 1..start + len];
        let mut parts = inner.split(':');
        let hex = |s: Option<&str>| s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()));
        let ok = hex(parts.next())
            && hex(parts.next())
            && parts
                .next()
                .is_none_or(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            && parts.next().is_none();
        if !ok {
            return false;
        }
        plain.push('0');
        rest = &rest[start + len + 1..];
    }
    plain.push_str(rest);
    plain.contains(':') && plain.parse::<std::net::Ipv6Addr>().is_ok()
}

/// One piece of a host pattern.
enum Piece {
    Text(String),
    /// The values of one range, already formatted (`01`, `02`…).
    Range(Vec<String>),
}

/// `expand_hostname_range`: every `[begin:end(:step)]` of `pattern`, left to right, the first
/// range varying slowest.
fn expand_ranges(pattern: &str, origin: &str, line: Option<usize>) -> Result<Vec<String>, InventoryError> {
    let bad = |reason| InventoryError::BadRange {
        origin: origin.to_string(),
        line,
        pattern: pattern.to_string(),
        reason,
    };
    let too_large = || InventoryError::RangeTooLarge {
        origin: origin.to_string(),
        line,
        pattern: pattern.to_string(),
        limit: MAX_RANGE_HOSTS,
    };
    if pattern.contains('|') {
        // Ansible splits on `|` after turning the brackets into it.
        return Err(bad("`|` cannot appear in a host pattern with a range"));
    }
    let mut pieces = Vec::new();
    let mut count: u128 = 1;
    let mut rest = pattern;
    while let Some(open) = rest.find('[') {
        let close = rest.find(']').ok_or_else(|| bad("`[` without a closing `]`"))?;
        if close < open {
            return Err(bad("`]` before `[`"));
        }
        pieces.push(Piece::Text(rest[..open].to_string()));
        let values = range_values(&rest[open + 1..close], MAX_RANGE_HOSTS / count).map_err(|e| match e {
            RangeIssue::Bad(reason) => bad(reason),
            RangeIssue::TooLarge => too_large(),
        })?;
        count = count.saturating_mul(values.len() as u128);
        if count > MAX_RANGE_HOSTS {
            return Err(too_large());
        }
        pieces.push(Piece::Range(values));
        rest = &rest[close + 1..];
    }
    pieces.push(Piece::Text(rest.to_string()));

    let mut names = vec![String::new()];
    for piece in &pieces {
        match piece {
            Piece::Text(text) => names.iter_mut().for_each(|n| n.push_str(text)),
            Piece::Range(values) => {
                names = names
                    .iter()
                    .flat_map(|n| values.iter().map(move |v| format!("{n}{v}")))
                    .collect();
            }
        }
    }
    Ok(names)
}

enum RangeIssue {
    Bad(&'static str),
    TooLarge,
}

/// The values of the range `inner` (between the brackets), at most `budget` of them.
fn range_values(inner: &str, budget: u128) -> Result<Vec<String>, RangeIssue> {
    let bounds: Vec<&str> = inner.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err(RangeIssue::Bad("host range must be begin:end or begin:end:step"));
    }
    let beg = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    if end.is_empty() {
        return Err(RangeIssue::Bad("host range must specify end value"));
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let step: u128 = match bounds.get(2) {
        None => 1,
        Some(s) if digits(s) => s.parse().map_err(|_| RangeIssue::Bad("host range step is too large"))?,
        Some(_) => return Err(RangeIssue::Bad("host range step must be a whole number")),
    };
    if step == 0 {
        return Err(RangeIssue::Bad("host range step must be positive"));
    }
    let width = if beg.starts_with('0') && beg.len() > 1 {
        if beg.len() != end.len() {
            return Err(RangeIssue::Bad(
                "host range must specify equal-length begin and end formats",
            ));
        }
        beg.len()
    } else {
        0
    };
    const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let letter = |s: &str| if s.len() == 1 { LETTERS.find(s) } else { None };
    if let (Some(b), Some(e)) = (letter(beg), letter(end)) {
        if b > e {
            return Err(RangeIssue::Bad("host range must have begin <= end"));
        }
        let step = usize::try_from(step).unwrap_or(usize::MAX);
        return Ok(LETTERS[b..=e]
            .chars()
            .step_by(step)
            .map(|c| format!("{c:0>width$}"))
            .collect());
    }
    if !digits(beg) || !digits(end) {
        return Err(RangeIssue::Bad("host range bounds must be numbers or single letters"));
    }
    let (b, e): (u128, u128) = match (beg.parse(), end.parse()) {
        (Ok(b), Ok(e)) => (b, e),
        _ => return Err(RangeIssue::TooLarge),
    };
    if b > e {
        return Err(RangeIssue::Bad("host range must have begin <= end"));
    }
    let count = (e - b) / step + 1;
    if count > budget {
        return Err(RangeIssue::TooLarge);
    }
    let mut values = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let mut v = b;
    while v <= e {
        values.push(format!("{v:0>width$}"));
        let Some(next) = v.checked_add(step) else { break };
        v = next;
    }
    Ok(values)
}

// ---------------------------------------------------------------------------------------------
// INI

/// Python's `str.splitlines()`: `\n`, `\r\n`, `\r`, `\v`, `\f`, `\x1c`–`\x1e`, `\x85`, U+2028/9.
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if matches!(
            c,
            '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{1c}'..='\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}'
        ) {
            lines.push(&text[start..i]);
            start = i + c.len_utf8();
            if c == '\r' && chars.peek().is_some_and(|&(_, n)| n == '\n') {
                chars.next();
                start += 1;
            }
        }
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Hosts,
    Vars,
    Children,
}

/// A group named before it is declared (`ini.py`'s `pending_declarations`).
struct Pending {
    name: String,
    line: usize,
    state: State,
    /// Groups whose `children` list it, and the line of each entry.
    parents: Vec<(usize, usize)>,
}

/// The pending declarations by name, in the order made (a Python `dict`).
#[derive(Default)]
struct PendingSet {
    items: Vec<Option<Pending>>,
    ids: HashMap<String, usize>,
}

impl PendingSet {
    fn contains(&self, name: &str) -> bool {
        self.ids.contains_key(name)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Pending> {
        let &at = self.ids.get(name)?;
        self.items.get_mut(at)?.as_mut()
    }

    fn insert(&mut self, pending: Pending) {
        self.ids.insert(pending.name.clone(), self.items.len());
        self.items.push(Some(pending));
    }

    fn remove(&mut self, name: &str) -> Option<Pending> {
        let at = self.ids.remove(name)?;
        self.items.get_mut(at)?.take()
    }

    fn first(self) -> Option<Pending> {
        self.items.into_iter().flatten().next()
    }
}

/// `ini.py` `InventoryModule._parse`.
fn parse_ini(text: &str, origin: &str) -> Result<Vec<InventoryHost>, InventoryError> {
    let mut inv = Inventory::new(origin);
    let mut pending = PendingSet::default();
    let mut group = UNGROUPED;
    let mut state = State::Hosts;
    for (index, raw) in split_lines(text).into_iter().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some((name, tag)) = match_section(line) {
            state = match tag {
                None | Some("hosts") => State::Hosts,
                Some("vars") => State::Vars,
                Some("children") => State::Children,
                Some(_) => {
                    return Err(InventoryError::BadSection {
                        origin: origin.to_string(),
                        line: line_no,
                        header: line.to_string(),
                        reason: "unknown section type (expected hosts, vars or children)",
                    })
                }
            };
            if !inv.has_group(name) {
                if state == State::Vars && !pending.contains(name) {
                    pending.insert(Pending {
                        name: name.to_string(),
                        line: line_no,
                        state,
                        parents: Vec::new(),
                    });
                }
                inv.add_group(name);
            }
            group = inv.add_group(name);
            if state != State::Vars {
                if let Some(declared) = pending.remove(name) {
                    if declared.state == State::Children {
                        for (parent, line) in declared.parents {
                            inv.add_child(parent, group, Some(line));
                        }
                    }
                }
            }
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            return Err(InventoryError::BadSection {
                origin: origin.to_string(),
                line: line_no,
                header: line.to_string(),
                reason: "not a section header: no spaces or other invalid characters are allowed",
            });
        }
        match state {
            State::Hosts => parse_host_line(&mut inv, line, group, line_no)?,
            State::Vars => {
                let Some((key, value)) = line.split_once('=') else {
                    return Err(InventoryError::ExpectedKeyValue {
                        origin: origin.to_string(),
                        line: line_no,
                        text: line.to_string(),
                    });
                };
                inv.set_group_var(group, key.trim().to_string(), parse_value(value.trim()), Some(line_no))?;
            }
            State::Children => {
                let Some(child) = match_group_name(line) else {
                    return Err(InventoryError::BadGroupName {
                        origin: origin.to_string(),
                        line: line_no,
                        text: line.to_string(),
                    });
                };
                match inv.group_ids.get(child) {
                    Some(&child) => inv.add_child(group, child, Some(line_no)),
                    None => match pending.get_mut(child) {
                        Some(p) => p.parents.push((group, line_no)),
                        None => pending.insert(Pending {
                            name: child.to_string(),
                            line: line_no,
                            state: State::Children,
                            parents: vec![(group, line_no)],
                        }),
                    },
                }
            }
        }
    }
    if let Some(p) = pending.first() {
        let section = match p.state {
            State::Children => {
                let parent = p.parents.last().map_or(ALL, |&(g, _)| g);
                format!("{}:children", inv.groups[parent].name)
            }
            _ => format!("{}:vars", p.name),
        };
        return Err(InventoryError::UndefinedGroup {
            origin: origin.to_string(),
            line: p.line,
            group: p.name,
            section,
        });
    }
    inv.finish()
}

/// `^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:\#.*)?$`: the group name and the optional type.
fn match_section(line: &str) -> Option<(&str, Option<&str>)> {
    let rest = line.strip_prefix('[')?;
    let name_len = rest
        .find(|c: char| c == ':' || c == ']' || c.is_whitespace())
        .unwrap_or(rest.len());
    if name_len == 0 {
        return None;
    }
    let (name, mut rest) = rest.split_at(name_len);
    let mut tag = None;
    if let Some(after) = rest.strip_prefix(':') {
        let tag_len = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if tag_len == 0 {
            return None;
        }
        tag = Some(&after[..tag_len]);
        rest = &after[tag_len..];
    }
    let rest = rest.strip_prefix(']')?.trim_start();
    (rest.is_empty() || rest.starts_with('#')).then_some((name, tag))
}

/// `^([^:\]\s]+)\s*(?:\#.*)?$`.
fn match_group_name(line: &str) -> Option<&str> {
    let len = line
        .find(|c: char| c == ':' || c == ']' || c.is_whitespace())
        .unwrap_or(line.len());
    let rest = line[len..].trim_start();
    (len > 0 && (rest.is_empty() || rest.starts_with('#'))).then_some(&line[..len])
}

/// `_parse_host_definition` and `_populate_host_vars`.
fn parse_host_line(inv: &mut Inventory<'_>, line: &str, group: usize, line_no: usize) -> Result<(), InventoryError> {
    let origin = inv.origin;
    let tokens = shlex_split(line).map_err(|issue| match issue {
        ShlexIssue::UnclosedQuote => InventoryError::UnclosedQuote {
            origin: origin.to_string(),
            line: line_no,
            text: line.to_string(),
        },
        ShlexIssue::TrailingBackslash => InventoryError::TrailingBackslash {
            origin: origin.to_string(),
            line: line_no,
            text: line.to_string(),
        },
    })?;
    let Some((pattern, assignments)) = tokens.split_first() else {
        return Err(InventoryError::BadHostPattern {
            origin: origin.to_string(),
            line: Some(line_no),
            pattern: line.to_string(),
            reason: "no host on the line",
        });
    };
    let (names, port) = expand_hostpattern(pattern, origin, Some(line_no))?;
    if pattern.trim().ends_with(':') && port.is_none() {
        return Err(InventoryError::BadHostPattern {
            origin: origin.to_string(),
            line: Some(line_no),
            pattern: pattern.clone(),
            reason: "ending in ':' is not allowed, this character is reserved to provide a port",
        });
    }
    if names.iter().any(|n| n.trim() == "---") {
        return Err(InventoryError::BadHostPattern {
            origin: origin.to_string(),
            line: Some(line_no),
            pattern: pattern.clone(),
            reason: "'---' is normally a sign this is a YAML file",
        });
    }
    let mut vars: Vec<(String, Val)> = Vec::with_capacity(assignments.len());
    for token in assignments {
        let Some((key, value)) = token.split_once('=') else {
            return Err(InventoryError::ExpectedKeyValue {
                origin: origin.to_string(),
                line: line_no,
                text: token.clone(),
            });
        };
        let value = parse_value(value);
        match vars.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => vars.push((key.to_string(), value)),
        }
    }
    for name in &names {
        let host = inv.add_host(name, group, port, Some(line_no))?;
        for (key, value) in &vars {
            inv.set_host_var(host, key.clone(), value.clone(), Some(line_no));
        }
    }
    Ok(())
}

enum ShlexIssue {
    UnclosedQuote,
    TrailingBackslash,
}

/// Python's `shlex.split(line, comments=True)` (POSIX mode): whitespace-separated words, `'…'`
/// and `"…"` quoting, backslash escapes (inside `"…"` only before `\` or `"`), and `#` ending
/// the line wherever a word could continue.
fn shlex_split(line: &str) -> Result<Vec<String>, ShlexIssue> {
    #[derive(Clone, Copy, PartialEq)]
    enum S {
        Space,
        Word,
        Quote(char),
        Escape(Option<char>),
    }
    let mut tokens = Vec::new();
    let mut token = String::new();
    let mut quoted = false;
    let mut state = S::Space;
    let mut chars = line.chars();
    loop {
        let next = chars.next();
        match state {
            S::Space | S::Word => match next {
                None => break,
                Some(' ' | '\t' | '\r' | '\n') => {
                    if state == S::Word && (!token.is_empty() || quoted) {
                        tokens.push(std::mem::take(&mut token));
                        quoted = false;
                    }
                    state = S::Space;
                }
                Some('#') => break,
                Some(q @ ('\'' | '"')) => state = S::Quote(q),
                Some('\\') => state = S::Escape(None),
                Some(c) => {
                    token.push(c);
                    state = S::Word;
                }
            },
            S::Quote(q) => {
                quoted = true;
                match next {
                    None => return Err(ShlexIssue::UnclosedQuote),
                    Some(c) if c == q => state = S::Word,
                    Some('\\') if q == '"' => state = S::Escape(Some(q)),
                    Some(c) => token.push(c),
                }
            }
            S::Escape(inside) => match next {
                None => return Err(ShlexIssue::TrailingBackslash),
                Some(c) => {
                    if let Some(q) = inside {
                        if c != '\\' && c != q {
                            token.push('\\');
                        }
                    }
                    token.push(c);
                    state = match inside {
                        Some(q) => S::Quote(q),
                        None => S::Word,
                    };
                }
            },
        }
    }
    if !token.is_empty() || quoted {
        tokens.push(token);
    }
    Ok(tokens)
}

// ---------------------------------------------------------------------------------------------
// INI values: a subset of Python's `ast.literal_eval`

/// `ini.py` `_parse_value`: the Python literal `text` spells, or `text` itself.
fn parse_value(text: &str) -> Val {
    literal_eval(text).unwrap_or_else(|| Val::Str(text.to_string()))
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str { text: String, bytes: bool },
    Num(Val),
    Name(String),
    Punct(char),
}

fn literal_eval(text: &str) -> Option<Val> {
    let text = text.trim_start_matches([' ', '\t']);
    let tokens = tokenize(text)?;
    let mut pos = 0;
    let first = parse_literal(&tokens, &mut pos, 0)?;
    let value = if tokens.get(pos) == Some(&Tok::Punct(',')) {
        // A bare tuple: `1, 2`.
        let mut items = vec![first];
        while tokens.get(pos) == Some(&Tok::Punct(',')) {
            pos += 1;
            if pos == tokens.len() {
                break;
            }
            items.push(parse_literal(&tokens, &mut pos, 0)?);
        }
        Val::List(items)
    } else {
        first
    };
    (pos == tokens.len()).then_some(value)
}

fn tokenize(text: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\u{c}' => i += 1,
            '#' => break,
            '(' | ')' | '[' | ']' | '{' | '}' | ',' | ':' | '+' | '-' => {
                tokens.push(Tok::Punct(c));
                i += 1;
            }
            '\'' | '"' => tokens.push(lex_string(&chars, &mut i, "")?),
            c if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) => {
                tokens.push(Tok::Num(lex_number(&chars, &mut i)?));
                if chars
                    .get(i)
                    .is_some_and(|&c| c.is_alphanumeric() || c == '_' || c == '.')
                {
                    return None;
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if matches!(chars.get(i), Some('\'' | '"')) {
                    let prefix = word.to_ascii_lowercase();
                    if !matches!(prefix.as_str(), "r" | "u" | "b" | "br" | "rb" | "f" | "fr" | "rf") {
                        return None;
                    }
                    tokens.push(lex_string(&chars, &mut i, &prefix)?);
                } else {
                    tokens.push(Tok::Name(word));
                }
            }
            _ => return None,
        }
    }
    Some(tokens)
}

/// A number at `chars[*i]`: int (decimal, `0x`, `0o`, `0b`, with `_`) or float. Complex → `None`.
fn lex_number(chars: &[char], i: &mut usize) -> Option<Val> {
    // Digits with single `_` between them, of the given radix.
    fn digit_run(chars: &[char], i: &mut usize, radix: u32, out: &mut String) -> bool {
        let start = out.len();
        while *i < chars.len() {
            let c = chars[*i];
            if c.is_digit(radix) {
                out.push(c);
                *i += 1;
            } else if c == '_' && out.len() > start && chars.get(*i + 1).is_some_and(|n| n.is_digit(radix)) {
                *i += 1;
            } else {
                break;
            }
        }
        out.len() > start
    }
    if chars[*i] == '0' {
        let radix = match chars.get(*i + 1) {
            Some('x' | 'X') => 16,
            Some('o' | 'O') => 8,
            Some('b' | 'B') => 2,
            _ => 0,
        };
        if radix != 0 {
            *i += 2;
            if chars.get(*i) == Some(&'_') {
                *i += 1;
            }
            let mut digits = String::new();
            if !digit_run(chars, i, radix, &mut digits) {
                return None;
            }
            return i128::from_str_radix(&digits, radix).ok().map(Val::Int);
        }
    }
    let mut int_part = String::new();
    digit_run(chars, i, 10, &mut int_part);
    let mut float = String::from(if int_part.is_empty() { "0" } else { &int_part });
    let mut is_float = false;
    if chars.get(*i) == Some(&'.') {
        *i += 1;
        is_float = true;
        float.push('.');
        let mut frac = String::new();
        digit_run(chars, i, 10, &mut frac);
        float.push_str(&frac);
        float.push('0');
    }
    if matches!(chars.get(*i), Some('e' | 'E')) {
        *i += 1;
        is_float = true;
        float.push('e');
        if let Some(&sign @ ('+' | '-')) = chars.get(*i) {
            float.push(sign);
            *i += 1;
        }
        let mut exp = String::new();
        if !digit_run(chars, i, 10, &mut exp) {
            return None;
        }
        float.push_str(&exp);
    }
    if matches!(chars.get(*i), Some('j' | 'J')) {
        return None;
    }
    if is_float {
        return float.parse::<f64>().ok().map(Val::Float);
    }
    if int_part.len() > 1 && int_part.starts_with('0') {
        // `0123` is a syntax error; `000` is zero.
        return int_part.bytes().all(|b| b == b'0').then_some(Val::Int(0));
    }
    if int_part.len() > MAX_INT_DIGITS {
        return None;
    }
    Some(int_part.parse::<i128>().map_or(Val::BigInt(int_part), Val::Int))
}

/// A string literal at `chars[*i]` (the opening quote), with its lowercase `prefix`.
fn lex_string(chars: &[char], i: &mut usize, prefix: &str) -> Option<Tok> {
    if prefix.contains('f') {
        return None;
    }
    let raw = prefix.contains('r');
    let bytes = prefix.contains('b');
    let quote = chars[*i];
    let triple = chars.get(*i + 1) == Some(&quote) && chars.get(*i + 2) == Some(&quote);
    *i += if triple { 3 } else { 1 };
    let mut body = String::new();
    loop {
        let c = *chars.get(*i)?;
        if c == quote && (!triple || (chars.get(*i + 1) == Some(&quote) && chars.get(*i + 2) == Some(&quote))) {
            *i += if triple { 3 } else { 1 };
            break;
        }
        if c == '\\' {
            let next = *chars.get(*i + 1)?;
            body.push('\\');
            body.push(next);
            *i += 2;
            continue;
        }
        if bytes && !c.is_ascii() {
            return None;
        }
        body.push(c);
        *i += 1;
    }
    let text = if raw { body } else { unescape(&body, bytes)? };
    Some(Tok::Str { text, bytes })
}

/// Python's string escapes (`\n`, `\x41`, `\101`, `\u0041`…); unknown ones stay as written.
fn unescape(body: &str, bytes: bool) -> Option<String> {
    let chars: Vec<char> = body.chars().collect();
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let push = |out: &mut Vec<u8>, c: char| {
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    };
    let hex = |s: &[char]| -> Option<u32> {
        let s: String = s.iter().collect();
        (s.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| u32::from_str_radix(&s, 16).ok())
            .flatten()
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' {
            push(&mut out, c);
            i += 1;
            continue;
        }
        let e = *chars.get(i + 1)?;
        i += 2;
        match e {
            '\\' | '\'' | '"' => push(&mut out, e),
            'a' => out.push(7),
            'b' => out.push(8),
            'f' => out.push(12),
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            'v' => out.push(11),
            '0'..='7' => {
                let mut n = e.to_digit(8)?;
                for _ in 0..2 {
                    match chars.get(i).and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            n = n * 8 + d;
                            i += 1;
                        }
                        None => break,
                    }
                }
                if bytes {
                    out.push(u8::try_from(n).ok()?);
                } else {
                    push(&mut out, char::from_u32(n)?);
                }
            }
            'x' => {
                let n = hex(chars.get(i..i + 2)?)?;
                i += 2;
                if bytes {
                    out.push(u8::try_from(n).ok()?);
                } else {
                    push(&mut out, char::from_u32(n)?);
                }
            }
            'u' | 'U' if !bytes => {
                let len = if e == 'u' { 4 } else { 8 };
                let n = hex(chars.get(i..i + len)?)?;
                i += len;
                push(&mut out, char::from_u32(n)?);
            }
            'N' if !bytes => return None,
            other => {
                out.push(b'\\');
                push(&mut out, other);
            }
        }
    }
    String::from_utf8(out).ok()
}

fn parse_literal(tokens: &[Tok], pos: &mut usize, depth: usize) -> Option<Val> {
    let tok = tokens.get(*pos)?;
    *pos += 1;
    match tok {
        Tok::Str { text, bytes } => {
            let mut s = text.clone();
            while let Some(Tok::Str { text, bytes: b }) = tokens.get(*pos) {
                if b != bytes {
                    return None;
                }
                s.push_str(text);
                *pos += 1;
            }
            Some(Val::Str(s))
        }
        Tok::Num(v) => Some(v.clone()),
        Tok::Punct(sign @ ('+' | '-')) => match tokens.get(*pos)? {
            Tok::Num(v) => {
                *pos += 1;
                if *sign == '+' {
                    return Some(v.clone());
                }
                Some(match v {
                    Val::Int(i) => Val::Int(-i),
                    Val::Float(f) => Val::Float(-f),
                    Val::BigInt(s) => Val::BigInt(format!("-{s}")),
                    _ => return None,
                })
            }
            _ => None,
        },
        Tok::Name(name) => match name.as_str() {
            "True" => Some(Val::Bool(true)),
            "False" => Some(Val::Bool(false)),
            "None" => Some(Val::Null),
            _ => None,
        },
        Tok::Punct(open @ ('[' | '(' | '{')) => {
            let open = *open;
            if depth >= MAX_LITERAL_NESTING {
                return None;
            }
            let close = match open {
                '[' => ']',
                '(' => ')',
                _ => '}',
            };
            let mut items: Vec<Val> = Vec::new();
            let mut pairs: Vec<(Val, Val)> = Vec::new();
            let mut is_dict = false;
            let mut commas = 0;
            loop {
                if tokens.get(*pos) == Some(&Tok::Punct(close)) {
                    *pos += 1;
                    break;
                }
                if !items.is_empty() || !pairs.is_empty() {
                    if tokens.get(*pos) != Some(&Tok::Punct(',')) {
                        return None;
                    }
                    *pos += 1;
                    commas += 1;
                    if tokens.get(*pos) == Some(&Tok::Punct(close)) {
                        *pos += 1;
                        break;
                    }
                }
                let item = parse_literal(tokens, pos, depth + 1)?;
                let first = items.is_empty() && pairs.is_empty();
                if open == '{' && first && tokens.get(*pos) == Some(&Tok::Punct(':')) {
                    is_dict = true;
                }
                if is_dict {
                    if tokens.get(*pos) != Some(&Tok::Punct(':')) {
                        return None;
                    }
                    *pos += 1;
                    let value = parse_literal(tokens, pos, depth + 1)?;
                    match pairs.iter_mut().find(|(k, _)| *k == item) {
                        Some(slot) => slot.1 = value,
                        None => pairs.push((item, value)),
                    }
                } else {
                    items.push(item);
                }
            }
            Some(match open {
                '{' if is_dict => Val::Dict(pairs),
                '{' if items.is_empty() => Val::Dict(Vec::new()),
                '{' => {
                    let mut set: Vec<Val> = Vec::with_capacity(items.len());
                    for item in items {
                        if !set.contains(&item) {
                            set.push(item);
                        }
                    }
                    Val::List(set)
                }
                // `(x)` is `x`; `(x,)` and `()` are tuples, made lists by Ansible.
                '(' if items.len() == 1 && commas == 0 => items.pop()?,
                _ => Val::List(items),
            })
        }
        Tok::Punct(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// YAML

/// `yaml.py` `InventoryModule.parse`: every top-level key is a group.
fn parse_yaml(map: &serde_yaml_ng::Mapping, origin: &str) -> Result<Vec<InventoryHost>, InventoryError> {
    if map.get("plugin").is_some_and(|p| Val::from_yaml(p).truthy()) {
        return Err(InventoryError::NotAnInventory {
            origin: origin.to_string(),
            message: "a `plugin:` key makes this an inventory plugin configuration".to_string(),
        });
    }
    let mut inv = Inventory::new(origin);
    for (name, data) in map {
        parse_yaml_group(&mut inv, name, data, 0)?;
    }
    inv.finish()
}

/// `yaml.py` `_parse_group`: a group's `vars`, `children` (recursively) and `hosts`, in the
/// order they are written.
fn parse_yaml_group(inv: &mut Inventory<'_>, name: &Yaml, data: &Yaml, depth: usize) -> Result<usize, InventoryError> {
    let origin = inv.origin;
    let shape = |message: String| InventoryError::NotAnInventory {
        origin: origin.to_string(),
        message,
    };
    let Yaml::String(name) = name else {
        return Err(shape(format!("a group name is {}, not a string", kind(name))));
    };
    if depth > MAX_YAML_GROUP_DEPTH {
        return Err(shape(format!(
            "`children` nested deeper than {MAX_YAML_GROUP_DEPTH} levels, at group `{name}`"
        )));
    }
    let map = match data {
        Yaml::Null => None,
        Yaml::Mapping(map) => Some(map),
        other => return Err(shape(format!("group `{name}` is {}, not a mapping", kind(other)))),
    };
    let group = inv.add_group(name);
    let Some(map) = map else { return Ok(group) };
    for section in ["vars", "children", "hosts"] {
        match map.get(section) {
            None | Some(Yaml::Null | Yaml::Mapping(_) | Yaml::String(_)) => {}
            Some(other) => {
                return Err(shape(format!(
                    "the `{section}` entry of group `{name}` is {}, not a mapping",
                    kind(other)
                )));
            }
        }
    }
    for (key, value) in map {
        // `hosts: web1` is `hosts: {web1: null}`.
        let single;
        let entries = match (key.as_str(), value) {
            (Some("vars" | "children" | "hosts"), Yaml::String(s)) => {
                single = [(Yaml::String(s.clone()), Yaml::Null)];
                single.iter().map(|(k, v)| (k, v)).collect::<Vec<_>>()
            }
            (_, Yaml::Mapping(m)) => m.iter().collect(),
            _ => continue,
        };
        match key.as_str() {
            Some("vars") => {
                for (k, v) in entries {
                    inv.set_group_var(group, Val::from_yaml(k).text(), Val::from_yaml(v), None)?;
                }
            }
            Some("children") => {
                for (k, v) in entries {
                    let child = parse_yaml_group(inv, k, v, depth + 1)?;
                    inv.add_child(group, child, None);
                }
            }
            Some("hosts") => {
                for (k, v) in entries {
                    let Yaml::String(pattern) = k else {
                        return Err(InventoryError::BadHostPattern {
                            origin: origin.to_string(),
                            line: None,
                            pattern: Val::from_yaml(k).text(),
                            reason: "a host name must be a string (quote numbers)",
                        });
                    };
                    let vars: Vec<(&Yaml, &Yaml)> = match v {
                        Yaml::Mapping(m) => m.iter().collect(),
                        other if !Val::from_yaml(other).truthy() => Vec::new(),
                        other => {
                            return Err(shape(format!(
                                "the variables of host `{pattern}` are {}, not a mapping",
                                kind(other)
                            )));
                        }
                    };
                    let (names, port) = expand_hostpattern(pattern, origin, None)?;
                    for host_name in &names {
                        let host = inv.add_host(host_name, group, port, None)?;
                        for (k, v) in &vars {
                            inv.set_host_var(host, Val::from_yaml(k).text(), Val::from_yaml(v), None);
                        }
                    }
                }
            }
            // Ansible warns and skips other keys.
            _ => {}
        }
    }
    Ok(group)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, origin: &str) -> Vec<InventoryHost> {
        match parse(text, origin) {
            Ok(hosts) => hosts,
            Err(e) => panic!("{origin}: {e}"),
        }
    }

    fn err(text: &str, origin: &str) -> InventoryError {
        match parse(text, origin) {
            Ok(hosts) => panic!("{origin}: expected an error, got {hosts:?}"),
            Err(e) => e,
        }
    }

    fn host<'a>(hosts: &'a [InventoryHost], name: &str) -> &'a InventoryHost {
        match hosts.iter().find(|h| h.name == name) {
            Some(h) => h,
            None => panic!("no host {name} in {hosts:?}"),
        }
    }

    fn names(hosts: &[InventoryHost]) -> Vec<&str> {
        hosts.iter().map(|h| h.name.as_str()).collect()
    }

    fn var<'a>(h: &'a InventoryHost, key: &str) -> &'a str {
        h.vars.get(key).map_or("<unset>", String::as_str)
    }

    // --- INI ---

    #[test]
    fn ini_groups_host_vars_and_quotes() {
        let hosts = ok(
            "[web]\nweb1 ansible_host=10.0.0.1 ansible_user=deploy motd=\"hello world\" k='single q'\nweb2\n",
            "inv.ini",
        );
        assert_eq!(names(&hosts), ["web1", "web2"]);
        let w1 = host(&hosts, "web1");
        assert_eq!(w1.address.as_deref(), Some("10.0.0.1"));
        assert_eq!(w1.user.as_deref(), Some("deploy"));
        assert_eq!(w1.port, None);
        assert_eq!(w1.groups, ["web"]);
        assert_eq!(var(w1, "motd"), "hello world");
        assert_eq!(var(w1, "k"), "single q");
        assert_eq!(host(&hosts, "web2").address, None);
    }

    #[test]
    fn ini_ungrouped_hosts_before_sections() {
        let hosts = ok(
            "alpha\nbeta ansible_port=2200\n[g]\ngamma\n[ungrouped:vars]\nu=1\n",
            "inv.ini",
        );
        assert_eq!(names(&hosts), ["alpha", "beta", "gamma"]);
        assert!(host(&hosts, "alpha").groups.is_empty());
        assert_eq!(host(&hosts, "beta").port, Some(2200));
        assert_eq!(var(host(&hosts, "alpha"), "u"), "1");
        assert_eq!(var(host(&hosts, "gamma"), "u"), "<unset>");
    }

    #[test]
    fn ini_ungrouped_host_later_grouped_loses_ungrouped_vars() {
        let hosts = ok("h1\n[g]\nh1\n[ungrouped:vars]\nu=1\n", "inv.ini");
        assert_eq!(host(&hosts, "h1").groups, ["g"]);
        assert_eq!(var(host(&hosts, "h1"), "u"), "<unset>");
    }

    #[test]
    fn ini_comments_and_blank_lines() {
        let text =
            "# top comment\n; another\n\n[web] # trailing\n  web1   # host comment\nweb2 pw=ab#cd\n\n  ; indented\n";
        let hosts = ok(text, "inv.ini");
        assert_eq!(names(&hosts), ["web1", "web2"]);
        // shlex ends the line at `#` even inside a word, as Ansible does.
        assert_eq!(var(host(&hosts, "web2"), "pw"), "ab");
    }

    #[test]
    fn ini_group_vars_children_and_precedence() {
        let text = "\
[all:vars]
ansible_user=root
level=all
[parent:children]
child
[parent:vars]
level=parent
ansible_port=2000
[child]
h1
h2 level=host
[child:vars]
level=child
[parent]
p1
";
        let hosts = ok(text, "inv.ini");
        assert_eq!(names(&hosts), ["h1", "h2", "p1"]);
        let h1 = host(&hosts, "h1");
        assert_eq!(h1.groups, ["child", "parent"]);
        assert_eq!(var(h1, "level"), "child");
        assert_eq!(h1.user.as_deref(), Some("root"));
        assert_eq!(h1.port, Some(2000));
        assert_eq!(var(host(&hosts, "h2"), "level"), "host");
        assert_eq!(var(host(&hosts, "p1"), "level"), "parent");
        assert_eq!(host(&hosts, "p1").groups, ["parent"]);
    }

    #[test]
    fn ini_siblings_sorted_by_name_and_priority() {
        let text = "[b]\nh\n[a]\nh\n[a:vars]\nx=from_a\n[b:vars]\nx=from_b\n";
        assert_eq!(var(host(&ok(text, "i.ini"), "h"), "x"), "from_b");
        let text = "[b]\nh\n[a]\nh\n[a:vars]\nx=from_a\nansible_group_priority=5\n[b:vars]\nx=from_b\n";
        let hosts = ok(text, "i.ini");
        assert_eq!(var(host(&hosts, "h"), "x"), "from_a");
        assert_eq!(var(host(&hosts, "h"), "ansible_group_priority"), "<unset>");
    }

    #[test]
    fn ini_deeper_group_wins_over_shallower_sibling() {
        // `z` is at depth 1, `a` at depth 2 (child of `p`): depth first, then the name.
        let text = "[z]\nh\n[p:children]\na\n[a]\nh\n[z:vars]\nx=z\n[a:vars]\nx=a\n";
        assert_eq!(var(host(&ok(text, "i.ini"), "h"), "x"), "a");
    }

    #[test]
    fn ini_numeric_ranges() {
        let hosts = ok("[web]\nweb[01:03].example.com\n", "i.ini");
        assert_eq!(
            names(&hosts),
            ["web01.example.com", "web02.example.com", "web03.example.com"]
        );
        let hosts = ok("[web]\nn[1:10:4]\n", "i.ini");
        assert_eq!(names(&hosts), ["n1", "n5", "n9"]);
        let hosts = ok("[web]\nn[:2]\nm[8:10]\n", "i.ini");
        assert_eq!(names(&hosts), ["n0", "n1", "n2", "m8", "m9", "m10"]);
        let hosts = ok("[web]\nr[1:2]-c[a:b]\n", "i.ini");
        assert_eq!(names(&hosts), ["r1-ca", "r1-cb", "r2-ca", "r2-cb"]);
    }

    #[test]
    fn ini_alphabetic_ranges() {
        assert_eq!(names(&ok("db-[a:c]\n", "i.ini")), ["db-a", "db-b", "db-c"]);
        assert_eq!(names(&ok("x[a:e:2]\n", "i.ini")), ["xa", "xc", "xe"]);
        assert_eq!(names(&ok("x[y:B]\n", "i.ini")), ["xy", "xz", "xA", "xB"]);
    }

    #[test]
    fn ini_host_port_shorthand() {
        let hosts = ok(
            "[db]\ndb.example.com:2222\n10.0.0.9:22 ansible_host=10.0.0.9\n[fe80::1]:2200\n2001:db8::5\n",
            "i.ini",
        );
        assert_eq!(names(&hosts), ["db.example.com", "10.0.0.9", "fe80::1", "2001:db8::5"]);
        assert_eq!(host(&hosts, "db.example.com").port, Some(2222));
        assert_eq!(host(&hosts, "10.0.0.9").port, Some(22));
        assert_eq!(host(&hosts, "fe80::1").port, Some(2200));
        assert_eq!(host(&hosts, "2001:db8::5").port, None);
        // A range with a port, and an explicit variable beating the shorthand.
        let hosts = ok("web[1:2]:2022\nx:1 ansible_port=2\n", "i.ini");
        assert_eq!(names(&hosts), ["web1", "web2", "x"]);
        assert_eq!(host(&hosts, "web2").port, Some(2022));
        assert_eq!(host(&hosts, "x").port, Some(2));
        // `host:0` sets no port (`if port:` in host.py).
        assert_eq!(host(&ok("z:0\n", "i.ini"), "z").port, None);
    }

    #[test]
    fn ini_same_host_in_several_groups() {
        let text = "[a]\ndb:2222 x=1 y=1\n[b]\ndb:3333 y=2\n[c]\nother\n";
        let hosts = ok(text, "i.ini");
        assert_eq!(names(&hosts), ["db", "other"]);
        let db = host(&hosts, "db");
        assert_eq!(db.groups, ["a", "b"]);
        // The port of the first line that named the host (host.py's constructor), later vars win.
        assert_eq!(db.port, Some(2222));
        assert_eq!((var(db, "x"), var(db, "y")), ("1", "2"));
    }

    #[test]
    fn ini_vars_and_children_before_the_group() {
        let text = "[web:vars]\nansible_user=www\n[all:children]\nweb\n[web]\nw1\n";
        let hosts = ok(text, "i.ini");
        assert_eq!(host(&hosts, "w1").user.as_deref(), Some("www"));
        assert_eq!(host(&hosts, "w1").groups, ["web"]);
        let text = "[top:children]\nmid\n[mid:children]\nleaf\n[leaf]\nh\n[top:vars]\nt=1\n";
        let hosts = ok(text, "i.ini");
        assert_eq!(host(&hosts, "h").groups, ["leaf", "mid", "top"]);
        assert_eq!(var(host(&hosts, "h"), "t"), "1");
    }

    #[test]
    fn ini_values_as_text() {
        let text = "h i=022 j=0x1F b=True n=None f=1e20 g=0.5 s='quoted' l=\"[1, 'a', None]\" d=\"{'k': 1.0}\" t=1,2 e=\"\" raw=a,b ip=10.0.0.1 c=1j\n[all:vars]\nv=23 # comment\nw=abc # not a literal\n";
        let h = &ok(text, "i.ini")[0];
        let expect = [
            ("i", "022"),
            ("j", "31"),
            ("b", "True"),
            ("n", ""),
            ("f", "1e+20"),
            ("g", "0.5"),
            ("s", "quoted"),
            ("l", "[1, 'a', None]"),
            ("d", "{'k': 1.0}"),
            ("t", "[1, 2]"),
            ("e", ""),
            ("raw", "a,b"),
            ("ip", "10.0.0.1"),
            ("c", "1j"),
            ("v", "23"),
            ("w", "abc # not a literal"),
        ];
        for (k, v) in expect {
            assert_eq!(var(h, k), v, "{k}");
        }
    }

    #[test]
    fn literal_eval_subset() {
        let cases = [
            ("'a\\tb'", Some(Val::Str("a\tb".into()))),
            ("r'a\\tb'", Some(Val::Str("a\\tb".into()))),
            ("b'\\x41'", Some(Val::Str("A".into()))),
            ("'\\u00e9' 'x'", Some(Val::Str("éx".into()))),
            ("-5", Some(Val::Int(-5))),
            ("1_000", Some(Val::Int(1000))),
            ("00", Some(Val::Int(0))),
            ("0123", None),
            ("1e", None),
            ("--1", None),
            ("(1)", Some(Val::Int(1))),
            ("(1,)", Some(Val::List(vec![Val::Int(1)]))),
            ("{1, 1, 2}", Some(Val::List(vec![Val::Int(1), Val::Int(2)]))),
            ("{}", Some(Val::Dict(vec![]))),
            ("[1,", None),
            ("f'x'", None),
            ("1 2", None),
            ("'unclosed", None),
            ("{{ var }}", None),
        ];
        for (text, want) in cases {
            assert_eq!(literal_eval(text), want, "{text}");
        }
        let deep = "[".repeat(5000);
        assert_eq!(literal_eval(&deep), None);
        let nested = format!("{}1{}", "[".repeat(150), "]".repeat(150));
        assert!(literal_eval(&nested).is_some());
    }

    #[test]
    fn float_and_string_repr_like_python() {
        let cases = [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-1.5e-7, "-1.5e-07"),
            (123.456, "123.456"),
            (-0.0, "-0.0"),
            (f64::INFINITY, "inf"),
        ];
        for (f, want) in cases {
            assert_eq!(py_float_repr(f), want);
        }
        assert_eq!(py_str_repr("it's"), "\"it's\"");
        assert_eq!(py_str_repr("a'b\"c\n"), "'a\\'b\"c\\n'");
    }

    #[test]
    fn ini_hosts_in_order_of_first_appearance() {
        let text = "[a]\nz\ny\n[b]\nx\nz\ny\n[c]\nw\n";
        assert_eq!(names(&ok(text, "i.ini")), ["z", "y", "x", "w"]);
    }

    #[test]
    fn ten_thousand_host_range() {
        let text = "[fleet]\nnode[00001:10000].example.com ansible_user=ops\n[fleet:vars]\nansible_port=2222\n";
        let hosts = ok(text, "big.ini");
        assert_eq!(hosts.len(), 10_000);
        assert_eq!(hosts[0].name, "node00001.example.com");
        assert_eq!(hosts[9_999].name, "node10000.example.com");
        assert!(hosts
            .iter()
            .all(|h| h.port == Some(2222) && h.user.as_deref() == Some("ops")));
    }

    #[test]
    fn line_endings_and_bom() {
        let hosts = ok("\u{feff}[g]\r\na\rb\r\n", "i.ini");
        assert_eq!(names(&hosts), ["a", "b"]);
    }

    #[test]
    fn empty_inventory() {
        assert!(ok("", "hosts").is_empty());
        assert!(ok("# nothing\n", "i.ini").is_empty());
        assert!(ok("", "i.yml").is_empty());
    }

    // --- YAML ---

    const YAML: &str = "\
all:
  vars:
    ansible_user: admin
    level: all
    flag: true
    ratio: 0.5
    nothing: null
    list: [1, two, null]
  hosts:
    bastion.example.com:
      ansible_host: 203.0.113.10
    plain:
  children:
    web:
      vars:
        level: web
        ansible_port: 2222
      hosts:
        web[01:02].example.com:
          ansible_user: www
      children:
        canary:
          hosts:
            web01.example.com:
              level: host
          vars:
            level: canary
    db:
      hosts:
        db.example.com:5432:
        web02.example.com:
          extra: 7
";

    #[test]
    fn yaml_inventory() {
        let hosts = ok(YAML, "inventory.yml");
        assert_eq!(
            names(&hosts),
            [
                "bastion.example.com",
                "plain",
                "web01.example.com",
                "web02.example.com",
                "db.example.com"
            ]
        );
        let b = host(&hosts, "bastion.example.com");
        assert_eq!(b.address.as_deref(), Some("203.0.113.10"));
        assert_eq!(b.user.as_deref(), Some("admin"));
        assert!(b.groups.is_empty());
        assert_eq!(
            (var(b, "flag"), var(b, "ratio"), var(b, "nothing")),
            ("True", "0.5", "")
        );
        assert_eq!(var(b, "list"), "[1, 'two', None]");
        let w1 = host(&hosts, "web01.example.com");
        assert_eq!(w1.groups, ["canary", "web"]);
        assert_eq!(w1.user.as_deref(), Some("www"));
        assert_eq!(w1.port, Some(2222));
        assert_eq!(var(w1, "level"), "host");
        let w2 = host(&hosts, "web02.example.com");
        assert_eq!(w2.groups, ["db", "web"]);
        assert_eq!(var(w2, "level"), "web");
        assert_eq!(var(w2, "extra"), "7");
        let db = host(&hosts, "db.example.com");
        assert_eq!(db.port, Some(5432));
        assert_eq!(db.groups, ["db"]);
    }

    #[test]
    fn yaml_detection_by_name_and_content() {
        // No extension: YAML by content.
        assert_eq!(ok(YAML, "hosts").len(), 5);
        assert_eq!(ok(YAML, "dir.d/inventory.json").len(), 5);
        // `.ini`: never YAML, as Ansible's yaml plugin refuses the name.
        assert!(matches!(err(YAML, "hosts.ini"), InventoryError::BadHostPattern { .. }));
        // INI text under a YAML name is read as INI, as Ansible falls back to the ini plugin.
        assert_eq!(names(&ok("[g]\na\nb\n", "hosts.yml")), ["a", "b"]);
        assert_eq!(names(&ok("a ansible_host=1.2.3.4\n", "hosts")), ["a"]);
        // JSON is YAML.
        let json = r#"{"all": {"hosts": {"j1": {"ansible_port": 22}}}}"#;
        assert_eq!(ok(json, "inv.json")[0].port, Some(22));
    }

    #[test]
    fn yaml_nested_children_any_depth_and_shorthands() {
        let mut text = String::from("all:\n  children:\n");
        let mut indent = 4;
        for level in 0..20 {
            let pad = " ".repeat(indent);
            text.push_str(&format!(
                "{pad}g{level:02}:\n{pad}  vars:\n{pad}    v{level:02}: {level}\n{pad}  children:\n"
            ));
            indent += 4;
        }
        let pad = " ".repeat(indent);
        text.push_str(&format!("{pad}leaf:\n{pad}  hosts: deep-host\n"));
        let hosts = ok(&text, "deep.yaml");
        assert_eq!(hosts.len(), 1);
        assert_eq!(hosts[0].groups.len(), 21);
        assert_eq!(var(&hosts[0], "v19"), "19");
        // Top-level groups other than `all` join `all`.
        let hosts = ok(
            "web:\n  hosts:\n    w1:\n  vars:\n    x: 1\nall:\n  vars:\n    x: 0\n",
            "i.yml",
        );
        assert_eq!(var(&hosts[0], "x"), "1");
        assert_eq!(hosts[0].groups, ["web"]);
    }

    #[test]
    fn yaml_scalars_as_text() {
        let text = "all:\n  hosts:\n    h:\n      i: 42\n      neg: -7\n      f: 1.0e+20\n      b: false\n      s: 'quoted'\n      t: !vault |\n        $ANSIBLE_VAULT;1.1\n      m: {a: 1}\n      port_text: '22'\n      ansible_user: 1000\n";
        let h = &ok(text, "i.yml")[0];
        assert_eq!(
            (var(h, "i"), var(h, "neg"), var(h, "f"), var(h, "b")),
            ("42", "-7", "1e+20", "False")
        );
        assert_eq!(
            (var(h, "s"), var(h, "t"), var(h, "m")),
            ("quoted", "$ANSIBLE_VAULT;1.1\n", "{'a': 1}")
        );
        assert_eq!(h.user.as_deref(), Some("1000"));
    }

    #[test]
    fn yaml_null_host_var_unsets_group_value() {
        let text = "all:\n  vars:\n    ansible_host: 1.1.1.1\n  hosts:\n    h:\n      ansible_host: null\n";
        assert_eq!(ok(text, "i.yml")[0].address, None);
    }

    // --- errors ---

    #[test]
    fn error_yaml_syntax_has_line() {
        let e = err("all:\n  hosts: [a,\n  vars: }\n", "i.yml");
        let InventoryError::YamlSyntax { origin, line, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(origin, "i.yml");
        assert!(line.is_some());
        assert!(e.to_string().starts_with("i.yml:"));
    }

    #[test]
    fn error_not_an_inventory() {
        let shape = |text: &str| matches!(err(text, "i.yml"), InventoryError::NotAnInventory { .. });
        assert!(shape("- a\n- b\n"));
        assert!(shape("plugin: aws_ec2\n"));
        assert!(shape("all:\n  hosts: [a, b]\n"));
        assert!(shape("all: just text\n"));
        assert!(shape("all:\n  hosts:\n    h: not-a-mapping\n"));
        assert!(shape("1: {hosts: {a: }}\n"));
    }

    #[test]
    fn error_yaml_too_deep_is_an_error() {
        let mut value = Yaml::Null;
        for _ in 0..(MAX_YAML_GROUP_DEPTH + 5) {
            let mut children = serde_yaml_ng::Mapping::new();
            children.insert(Yaml::String("g".into()), value);
            let mut group = serde_yaml_ng::Mapping::new();
            group.insert(Yaml::String("children".into()), Yaml::Mapping(children));
            value = Yaml::Mapping(group);
        }
        let mut inv = Inventory::new("x.yml");
        let e = parse_yaml_group(&mut inv, &Yaml::String("top".into()), &value, 0);
        assert!(matches!(e, Err(InventoryError::NotAnInventory { .. })), "{e:?}");
        // What the YAML parser stops first, for a text.
        let text = format!("all:{}", " {children: {g:".repeat(200));
        assert!(matches!(err(&text, "x.yml"), InventoryError::YamlSyntax { .. }));
    }

    #[test]
    fn error_unclosed_quote_and_trailing_backslash() {
        assert_eq!(
            err("[g]\n\nh1 motd=\"oops\n", "i.ini"),
            InventoryError::UnclosedQuote {
                origin: "i.ini".into(),
                line: 3,
                text: "h1 motd=\"oops".into()
            }
        );
        assert!(matches!(
            err("h1 x=a\\", "i.ini"),
            InventoryError::TrailingBackslash { line: 1, .. }
        ));
    }

    #[test]
    fn error_bad_section() {
        assert!(matches!(
            err("[web servers]\n", "i.ini"),
            InventoryError::BadSection { line: 1, .. }
        ));
        assert!(matches!(
            err("h\n[g:hostvars]\n", "i.ini"),
            InventoryError::BadSection { line: 2, .. }
        ));
        assert!(matches!(err("[g:]\n", "i.ini"), InventoryError::BadSection { .. }));
    }

    #[test]
    fn error_expected_key_value() {
        assert!(matches!(
            err("[g:vars]\nnot a pair\n[g]\n", "i.ini"),
            InventoryError::ExpectedKeyValue { line: 2, .. }
        ));
        assert!(matches!(
            err("h1 a=1 stray\n", "i.ini"),
            InventoryError::ExpectedKeyValue { line: 1, .. }
        ));
    }

    #[test]
    fn error_bad_group_name() {
        assert!(matches!(
            err("[p:children]\ntwo words\n", "i.ini"),
            InventoryError::BadGroupName { line: 2, .. }
        ));
    }

    #[test]
    fn error_undefined_group() {
        assert_eq!(
            err("[ghost:vars]\nx=1\n", "i.ini"),
            InventoryError::UndefinedGroup {
                origin: "i.ini".into(),
                line: 1,
                group: "ghost".into(),
                section: "ghost:vars".into()
            }
        );
        assert_eq!(
            err("[p:children]\nmissing\n", "i.ini"),
            InventoryError::UndefinedGroup {
                origin: "i.ini".into(),
                line: 2,
                group: "missing".into(),
                section: "p:children".into()
            }
        );
    }

    #[test]
    fn error_bad_host_pattern() {
        assert!(matches!(
            err("[g]\nhost:\n", "i.ini"),
            InventoryError::BadHostPattern { line: Some(2), .. }
        ));
        assert!(matches!(err("---\n", "i.ini"), InventoryError::BadHostPattern { .. }));
        assert!(matches!(err("\"\"\n", "i.ini"), InventoryError::BadHostPattern { .. }));
        assert!(matches!(
            err("all:\n  hosts:\n    12: {}\n", "i.yml"),
            InventoryError::BadHostPattern { line: None, .. }
        ));
    }

    #[test]
    fn error_bad_range() {
        let bad = |text: &str| matches!(err(text, "i.ini"), InventoryError::BadRange { line: Some(1), .. });
        assert!(bad("web[1]\n"));
        assert!(bad("web[1:]\n"));
        assert!(bad("web[01:100]\n"));
        assert!(bad("web[5:1]\n"));
        assert!(bad("web[c:a]\n"));
        assert!(bad("web[1:5:0]\n"));
        assert!(bad("web[1:5:x]\n"));
        assert!(bad("web[a:5]\n"));
        assert!(bad("web[1:3\n"));
        assert!(bad("web]x[1:3]\n"));
        assert!(matches!(
            err("all:\n  hosts:\n    'w[1:x]':\n", "i.yml"),
            InventoryError::BadRange { line: None, .. }
        ));
    }

    #[test]
    fn error_range_too_large() {
        assert!(ok("n[1:100000]\n", "i.ini").len() == 100_000);
        assert!(matches!(
            err("n[1:100001]\n", "i.ini"),
            InventoryError::RangeTooLarge { limit: 100_000, .. }
        ));
        assert!(matches!(
            err("n[1:1000]-[1:1000]\n", "i.ini"),
            InventoryError::RangeTooLarge { .. }
        ));
        assert!(matches!(
            err("n[0:99999999999999999999999999999999999999999]\n", "i.ini"),
            InventoryError::RangeTooLarge { .. }
        ));
    }

    #[test]
    fn error_too_many_hosts() {
        let text = "n[1:100000]\n".repeat(11);
        assert_eq!(
            err(&text, "i.ini"),
            InventoryError::TooManyHosts {
                origin: "i.ini".into(),
                limit: MAX_HOST_ENTRIES
            }
        );
    }

    #[test]
    fn error_bad_port() {
        assert_eq!(
            err("[g]\nh1\n[g:vars]\nansible_port=ssh\n", "i.ini"),
            InventoryError::BadPort {
                origin: "i.ini".into(),
                line: Some(4),
                host: "h1".into(),
                value: "ssh".into()
            }
        );
        assert!(matches!(
            err("h1:70000\n", "i.ini"),
            InventoryError::BadPort { line: Some(1), .. }
        ));
        assert!(matches!(
            err("h1 ansible_port=0\n", "i.ini"),
            InventoryError::BadPort { .. }
        ));
        assert!(matches!(
            err("all:\n  hosts:\n    h: {ansible_port: 22.5}\n", "i.yml"),
            InventoryError::BadPort { line: None, .. }
        ));
    }

    #[test]
    fn error_bad_group_priority() {
        assert!(matches!(
            err("[g]\nh\n[g:vars]\nansible_group_priority=high\n", "i.ini"),
            InventoryError::BadGroupPriority { line: Some(4), .. }
        ));
    }

    #[test]
    fn error_group_cycle() {
        let text = "[a:children]\nb\n[b:children]\na\n";
        assert_eq!(
            err(text, "i.ini"),
            InventoryError::GroupCycle {
                origin: "i.ini".into(),
                line: Some(4),
                parent: "b".into(),
                child: "a".into()
            }
        );
        assert!(matches!(
            err("[a:children]\na\n", "i.ini"),
            InventoryError::GroupCycle { line: Some(2), .. }
        ));
        // Through the implicit `all`.
        assert!(matches!(
            err("[x:children]\nall\n", "i.ini"),
            InventoryError::GroupCycle { line: None, .. }
        ));
        let yaml = "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n";
        assert!(matches!(err(yaml, "i.yml"), InventoryError::GroupCycle { .. }));
        // A long chain is fine, and checked without recursion.
        let mut chain = String::new();
        for i in 0..20_000 {
            chain.push_str(&format!("[g{i}:children]\ng{}\n", i + 1));
        }
        chain.push_str("[g20000]\nh\n[g0:vars]\ntop=1\n");
        let hosts = ok(&chain, "i.ini");
        assert_eq!((hosts[0].groups.len(), var(&hosts[0], "top")), (20_001, "1"));
        chain.push_str("[g20000:children]\ng0\n");
        let line = chain.lines().count();
        assert_eq!(
            err(&chain, "i.ini"),
            InventoryError::GroupCycle {
                origin: "i.ini".into(),
                line: Some(line),
                parent: "g20000".into(),
                child: "g0".into()
            }
        );
    }

    #[test]
    fn wide_groups_are_fast() {
        // One group with 20,000 children, each with a host, and one host in 20,000 groups.
        let mut text = String::from("[wide:children]\n");
        for i in 0..20_000 {
            text.push_str(&format!("c{i}\n"));
        }
        for i in 0..20_000 {
            text.push_str(&format!("[c{i}]\nh{i}\neverywhere\n"));
        }
        text.push_str("[wide:vars]\nansible_user=w\n");
        let hosts = ok(&text, "i.ini");
        assert_eq!(hosts.len(), 20_001);
        assert_eq!(host(&hosts, "h7").groups, ["c7", "wide"]);
        assert_eq!(host(&hosts, "everywhere").groups.len(), 20_001);
        assert!(hosts.iter().all(|h| h.user.as_deref() == Some("w")));
    }

    #[test]
    fn error_messages_name_file_and_line() {
        let e = err("[g]\nh1 x=\"a\n", "/etc/ansible/hosts.ini");
        assert_eq!(
            e.to_string(),
            "/etc/ansible/hosts.ini:2: unclosed quote in host line `h1 x=\"a`"
        );
    }

    #[test]
    fn no_panic_on_odd_input() {
        let samples = [
            "[",
            "]",
            "[]",
            "[:]",
            "[a:b:c]",
            "a[",
            "a]",
            "[[a]]",
            "h \"",
            "h '",
            "h \\",
            ":",
            "::",
            "[::1]",
            "[x]:1",
            "h x=[",
            "h x='\\",
            "h x=b'\u{e9}'",
            "h x='\\x4'",
            "h x='\\777'",
            "h x=0x",
            "h x=1e999",
            "\u{0}",
            "h x=\"{'a': [1, {'b': (2,)}]}\"",
            "a[0:0]",
            "é[a:b]",
            "[g:vars]\n=\n[g]",
        ];
        for s in samples {
            let _ = parse(s, "fuzz.ini");
            let _ = parse(s, "fuzz");
            let _ = parse(s, "fuzz.yml");
        }
    }
}
