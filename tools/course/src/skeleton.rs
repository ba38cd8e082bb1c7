//! 练习骨架从参考答案生成:一个来源,不会两边不一致。
//!
//! 每个参考答案旁边有一个 `skeleton.txt`,写着「把参考答案变成练习」要做的替换:
//! 换掉文件开头的 `//!` 注释(header)、在它后面插几行(after-header)、
//! 把 `// ANCHOR: step-N` 到 `// ANCHOR_END: step-N` 之间学员要写的代码换成 TODO 和 `todo!()`(step-N)。
//! 这些 ANCHOR 行 mdBook 在引用代码时会自动去掉,所以课本里看不到它们。

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// 一个参考答案的 `skeleton.txt`:(文件, 块名) → 这一块的行。
pub struct Spec {
    blocks: BTreeMap<(String, String), Vec<String>>,
}

impl Spec {
    pub fn load(solution: &Path) -> Result<Spec> {
        let path = solution.join("skeleton.txt");
        let text =
            fs::read_to_string(&path).with_context(|| format!("读不到 {}", path.display()))?;
        Spec::parse(&text).with_context(|| format!("{} 的格式不对", path.display()))
    }

    pub fn parse(text: &str) -> Result<Spec> {
        let mut blocks = BTreeMap::new();
        let mut current: Option<((String, String), Vec<String>)> = None;
        for line in text.lines() {
            if let Some(title) = line.strip_prefix("=== ") {
                if let Some((key, lines)) = current.take() {
                    blocks.insert(key, trim_end(lines));
                }
                let Some((file, kind)) = title.split_once(' ') else {
                    bail!("「{line}」应该是「=== 文件 块名」");
                };
                current = Some(((file.to_owned(), kind.trim().to_owned()), Vec::new()));
            } else if let Some((_, lines)) = current.as_mut() {
                lines.push(line.to_owned());
            } else if !(line.is_empty() || line.starts_with('#')) {
                bail!("第一个「===」之前只能有 # 开头的说明,却有「{line}」");
            }
        }
        if let Some((key, lines)) = current {
            blocks.insert(key, trim_end(lines));
        }
        Ok(Spec { blocks })
    }

    fn block(&self, file: &str, kind: &str) -> Option<&[String]> {
        self.blocks
            .get(&(file.to_owned(), kind.to_owned()))
            .map(Vec::as_slice)
    }

    /// 提到了哪些文件。
    fn files(&self) -> impl Iterator<Item = &str> {
        self.blocks.keys().map(|(file, _)| file.as_str())
    }

    /// 每一步的 TODO 文字:(第几步, 文件, 这一块的行),按步骤排好。
    pub fn step_blocks(&self) -> Vec<(usize, &str, &[String])> {
        let mut steps: Vec<(usize, &str, &[String])> = self
            .blocks
            .iter()
            .filter_map(|((file, kind), lines)| {
                let step = kind.strip_prefix("step-")?.parse().ok()?;
                Some((step, file.as_str(), lines.as_slice()))
            })
            .collect();
        steps.sort_by_key(|(step, _, _)| *step);
        steps
    }

    /// 骨架一共有几步(step-N 的个数)。
    pub fn steps(&self) -> usize {
        self.blocks
            .keys()
            .filter(|(_, kind)| kind.starts_with("step-"))
            .count()
    }
}

fn trim_end(mut lines: Vec<String>) -> Vec<String> {
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    lines
}

/// 把参考答案里的一个文件变成练习里的样子。`file` 是相对 crate 根目录的路径(比如 `src/main.rs`)。
pub fn generate(source: &str, file: &str, spec: &Spec) -> Result<String> {
    let lines: Vec<&str> = source.split('\n').collect();
    let header = lines.iter().take_while(|l| l.starts_with("//!")).count();
    let mut out: Vec<String> = Vec::new();
    match spec.block(file, "header") {
        Some(replacement) => out.extend(replacement.iter().cloned()),
        None => out.extend(lines[..header].iter().map(|l| l.to_string())),
    }
    if let Some(extra) = spec.block(file, "after-header") {
        out.extend(extra.iter().cloned());
    }
    let mut rest = lines[header..].iter();
    let mut used = Vec::new();
    while let Some(line) = rest.next() {
        let Some(step) = line.trim().strip_prefix("// ANCHOR: step-") else {
            out.push(line.to_string());
            continue;
        };
        let kind = format!("step-{step}");
        let end = format!("// ANCHOR_END: {kind}");
        if !rest.by_ref().any(|l| l.trim() == end) {
            bail!("{file}: 「// ANCHOR: {kind}」没有对应的「{end}」");
        }
        let Some(replacement) = spec.block(file, &kind) else {
            bail!("{file} 里有 {kind},skeleton.txt 里却没有「=== {file} {kind}」");
        };
        out.extend(replacement.iter().cloned());
        used.push(kind);
    }
    let mut missing: Vec<String> = spec
        .blocks
        .keys()
        .filter(|(f, kind)| f == file && kind.starts_with("step-") && !used.contains(kind))
        .map(|(_, kind)| kind.clone())
        .collect();
    if !missing.is_empty() {
        missing.sort();
        bail!(
            "skeleton.txt 里有 {file} 的 {},参考答案里却没有对应的 ANCHOR",
            missing.join("、")
        );
    }
    Ok(out.join("\n"))
}

/// 生成整个练习的 `src/`:返回 (相对路径, 内容),按路径排好。
pub fn generate_src(solution: &Path) -> Result<Vec<(PathBuf, String)>> {
    let spec = Spec::load(solution)?;
    let mut files = Vec::new();
    for path in rust_files(&solution.join("src"))? {
        let rel = path
            .strip_prefix(solution)
            .expect("在参考答案目录里")
            .to_path_buf();
        let key = rel.to_string_lossy().replace('\\', "/");
        let source =
            fs::read_to_string(&path).with_context(|| format!("读不到 {}", path.display()))?;
        files.push((rel, generate(&source, &key, &spec)?));
    }
    for file in spec.files() {
        if !files
            .iter()
            .any(|(rel, _)| rel.to_string_lossy().replace('\\', "/") == file)
        {
            bail!("skeleton.txt 提到了 {file},参考答案里却没有这个文件");
        }
    }
    Ok(files)
}

/// 目录里所有的文件(递归),按路径排好。
pub fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("读不到目录 {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOLUTION: &str = "//! 参考答案\n\nfn main() {\n    // ANCHOR: step-1\n    println!(\"hi\");\n    // ANCHOR_END: step-1\n}\n";

    #[test]
    fn steps_become_todos() {
        let spec = Spec::parse(
            "# 说明\n=== src/main.rs header\n//! 练习\n\n=== src/main.rs step-1\n    // TODO: 第 1 步\n    todo!()\n",
        )
        .unwrap();
        let out = generate(SOLUTION, "src/main.rs", &spec).unwrap();
        assert_eq!(
            out,
            "//! 练习\n\nfn main() {\n    // TODO: 第 1 步\n    todo!()\n}\n"
        );
        assert_eq!(spec.steps(), 1);
    }

    #[test]
    fn a_step_without_text_is_an_error() {
        let spec = Spec::parse("=== src/main.rs header\n//! 练习\n").unwrap();
        let err = generate(SOLUTION, "src/main.rs", &spec).unwrap_err();
        assert!(err.to_string().contains("step-1"), "{err}");
    }

    #[test]
    fn text_without_a_step_is_an_error() {
        let spec = Spec::parse("=== src/main.rs step-2\n    todo!()\n").unwrap();
        let source = "fn main() {}\n";
        assert!(generate(source, "src/main.rs", &spec).is_err());
    }
}
