//! The layout of `src/` (ARCHITECTURE.md): no import cycle between source files, no
//! `systems::<name>` path outside that system's folder and the registry (`src/systems/mod.rs`),
//! and within a system, no check importing a probe and no probe importing a check (both import
//! the facts).
//!
//! An import is any `use` path and any inline `crate::…`, `super::…` or `self::…` path (doc
//! comments and string literals aside), and a path starting with a child module the file
//! declares. It points at the deepest source file the path names. Unit-test modules
//! (`#[cfg(test)] mod … { … }`) are left out: they may build real data through the registry,
//! and are not part of the program whose layout this is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use regex::Regex;

/// A module of the crate: its path segments (`["systems", "maas", "checks"]`; the root is empty).
type Module = Vec<String>;

fn modules(src: &Path) -> BTreeMap<Module, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).unwrap().with_extension("");
                let mut segs: Module = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
                if matches!(segs.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                    segs.pop();
                }
                out.insert(segs, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    out
}

/// The text without comments, with every string literal emptied, and without unit-test
/// modules.
fn code(text: &str) -> String {
    let block = Regex::new(r"(?s)/\*.*?\*/").unwrap();
    let line = Regex::new(r"(?m)(^|\s)//.*$").unwrap();
    let string = Regex::new(r#""(?:[^"\\]|\\.)*""#).unwrap();
    let text = block.replace_all(text, "");
    let text = line.replace_all(&text, "$1");
    let mut text = string.replace_all(&text, "\"\"").into_owned();
    let test_mod = Regex::new(r"#\[cfg\(test\)\]\s*(?:pub\s+)?mod\s+\w+\s*\{").unwrap();
    while let Some(m) = test_mod.find(&text) {
        let end = inline_modules(&text[m.start()..])
            .first()
            .map_or(text.len(), |(_, e)| m.start() + e + 1);
        text.replace_range(m.start()..end, "");
    }
    text
}

/// The paths of a `use` tree (`a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`).
fn expand(prefix: &[String], tree: &str, out: &mut Vec<Module>) {
    let tree = tree.trim();
    if let Some(inner) = tree.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        let (mut depth, mut start) = (0, 0);
        for (i, ch) in inner.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(prefix, &inner[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(prefix, &inner[start..], out);
        return;
    }
    if tree.is_empty() {
        return;
    }
    let tree = tree.split(" as ").next().unwrap().trim();
    match tree.find("::{") {
        Some(at) => {
            let mut p = prefix.to_vec();
            p.extend(tree[..at].split("::").map(str::to_string));
            expand(&p, &tree[at + 2..], out);
        }
        None => {
            let mut p = prefix.to_vec();
            p.extend(tree.split("::").map(str::to_string));
            out.push(p);
        }
    }
}

/// Byte ranges of the inline modules (`mod tests { … }`) in `text`.
fn inline_modules(text: &str) -> Vec<(usize, usize)> {
    let open = Regex::new(r"\bmod\s+\w+\s*\{").unwrap();
    open.find_iter(text)
        .filter_map(|m| {
            let mut depth = 0;
            for (i, ch) in text[m.end() - 1..].char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some((m.start(), m.end() - 1 + i));
                        }
                    }
                    _ => {}
                }
            }
            None
        })
        .collect()
}

/// Every module each module imports.
fn imports(mods: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<Module>> {
    let use_re = Regex::new(r"\buse\s+([^;]+);").unwrap();
    let path_re = Regex::new(r"(?:^|[^\w:])((?:crate|super|self)(?:::\w+)+)").unwrap();
    let child_re = Regex::new(r"(?m)^\s*(?:pub(?:\([\w:]+\))?\s+)?mod\s+(\w+)\s*;").unwrap();
    let bare_re = Regex::new(r"(?:^|[^\w:])(\w+)::").unwrap();
    let mut out = BTreeMap::new();
    for (module, text) in mods {
        let text = code(text);
        let inline = inline_modules(&text);
        // How many inline modules enclose byte `at`: `super` leaves those first.
        let nesting = |at: usize| inline.iter().filter(|(a, b)| *a < at && at < *b).count();
        let children: BTreeSet<&str> = child_re
            .captures_iter(&text)
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
        let mut paths: Vec<(usize, Module)> = Vec::new();
        for c in use_re.captures_iter(&text) {
            let mut found = Vec::new();
            expand(&[], &c[1], &mut found);
            let at = c.get(0).unwrap().start();
            paths.extend(found.into_iter().map(|p| (at, p)));
        }
        for c in path_re.captures_iter(&text) {
            let m = c.get(1).unwrap();
            paths.push((m.start(), m.as_str().split("::").map(str::to_string).collect()));
        }
        for c in bare_re.captures_iter(&text) {
            if children.contains(&c[1]) {
                paths.push((c.get(1).unwrap().start(), vec!["self".into(), c[1].to_string()]));
            }
        }
        let mut targets = BTreeSet::new();
        for (at, p) in paths {
            let segs: Module = match p.first().map(String::as_str) {
                Some("crate") => p[1..].to_vec(),
                Some("super") => {
                    let mut rest = &p[..];
                    let mut inner = nesting(at);
                    while inner > 0 && rest.first().is_some_and(|s| s == "super") {
                        inner -= 1;
                        rest = &rest[1..];
                    }
                    if rest.first().is_some_and(|s| s == "super") {
                        let mut base = module[..module.len().saturating_sub(1)].to_vec();
                        rest = &rest[1..];
                        while rest.first().is_some_and(|s| s == "super") {
                            base.pop();
                            rest = &rest[1..];
                        }
                        base.extend(rest.iter().cloned());
                        base
                    } else {
                        module.iter().chain(rest).cloned().collect()
                    }
                }
                Some("self") => module.iter().chain(&p[1..]).cloned().collect(),
                Some(first) if children.contains(first) => module.iter().chain(&p).cloned().collect(),
                _ => continue,
            };
            let deepest = (1..=segs.len())
                .rev()
                .map(|n| segs[..n].to_vec())
                .find(|m| mods.contains_key(m));
            if let Some(target) = deepest.filter(|t| t != module) {
                targets.insert(target);
            }
        }
        out.insert(module.clone(), targets);
    }
    out
}

/// The strongly connected components of more than one module (Tarjan).
fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct State<'a> {
        graph: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on: BTreeSet<&'a Module>,
        found: Vec<Vec<Module>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Module) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on.insert(v);
        for w in &s.graph[v] {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.push(w.clone());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.found.push(comp);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.found
}

fn name(m: &Module) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

fn src_graph() -> BTreeMap<Module, BTreeSet<Module>> {
    imports(&modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src")))
}

#[test]
fn no_import_cycle_between_source_files() {
    let graph = src_graph();
    let found = cycles(&graph);
    let described: Vec<String> = found
        .iter()
        .map(|comp| {
            let members: BTreeSet<&Module> = comp.iter().collect();
            let edges: Vec<String> = comp
                .iter()
                .map(|m| {
                    let to: Vec<String> = graph[m].iter().filter(|t| members.contains(t)).map(name).collect();
                    format!("  {} -> {}", name(m), to.join(", "))
                })
                .collect();
            format!("a cycle of {} files:\n{}", comp.len(), edges.join("\n"))
        })
        .collect();
    assert!(described.is_empty(), "{}", described.join("\n"));
}

#[test]
fn a_system_is_used_only_from_its_folder_and_the_registry() {
    let graph = src_graph();
    let mut outside = Vec::new();
    for (from, targets) in &graph {
        for to in targets {
            let [first, system, ..] = to.as_slice() else { continue };
            let registry = from.len() == 1 && from[0] == "systems";
            let own = from.len() >= 2 && from[0] == "systems" && &from[1] == system;
            if first == "systems" && !registry && !own {
                outside.push(format!("{} uses {}", name(from), name(to)));
            }
        }
    }
    assert!(outside.is_empty(), "{}", outside.join("\n"));
}

#[test]
fn checks_and_probes_meet_only_in_the_facts() {
    let graph = src_graph();
    let kind = |m: &Module| match m.as_slice() {
        [s, _, file, ..] if s == "systems" && file.starts_with("probe") => Some("probe"),
        [s, _, file, ..] if s == "systems" && file.starts_with("checks") => Some("checks"),
        _ => None,
    };
    let mut crossing = Vec::new();
    for (from, targets) in &graph {
        for to in targets {
            if let (Some(a), Some(b)) = (kind(from), kind(to)) {
                if a != b {
                    crossing.push(format!("{} ({a}) imports {} ({b})", name(from), name(to)));
                }
            }
        }
    }
    assert!(crossing.is_empty(), "{}", crossing.join("\n"));
}

/// The checker itself finds a cycle and follows `use` trees, `super` and child modules.
#[test]
fn the_checker_sees_cycles_through_use_trees_super_and_children() {
    let mods: BTreeMap<Module, String> = [
        (vec![], "pub mod a;\npub mod b;\n".to_string()),
        (
            vec!["a".into()],
            "mod inner;\nuse crate::{b::{self, Thing}};\n// use crate::c;\nfn f() { inner::g(); }\n".into(),
        ),
        (vec!["a".into(), "inner".into()], "pub fn g() {}\n".into()),
        (
            vec!["b".into()],
            "pub struct Thing;\nfn h() { let _ = \"crate::a\"; super::a::f(); }\nmod tests {\n    use super::*;\n}\n"
                .into(),
        ),
    ]
    .into_iter()
    .collect();
    let graph = imports(&mods);
    assert!(graph[&vec!["a".to_string()]].contains(&vec!["a".to_string(), "inner".to_string()]));
    assert!(
        !graph[&vec!["b".to_string()]].contains(&vec![]),
        "`use super::*` in `mod tests` is b itself"
    );
    let found = cycles(&graph);
    assert_eq!(found, vec![vec![vec!["a".to_string()], vec!["b".to_string()]]]);
}
