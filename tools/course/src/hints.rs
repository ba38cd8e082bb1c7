//! 分级提示:每一课、骨架的每一步,从「往哪儿想」到「差不多就是答案」。
//!
//! 提示写在 `tools/course/hints/NN.md` 里(运行时从仓库里读,加一课不用改代码):
//! `## 第 N 步` 开始一步,`### 1`、`### 2`、`### 3` 开始一级提示。

use std::path::{Path, PathBuf};

/// 第 `lesson` 课的提示文件。
pub fn file(root: &Path, lesson: &str) -> PathBuf {
    root.join("tools/course/hints").join(format!("{lesson}.md"))
}

/// 第 `lesson` 课第 `step` 步的各级提示,从轻到重。
pub fn for_step(root: &Path, lesson: &str, step: usize) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(file(root, lesson)).ok()?;
    parse(&text)
        .into_iter()
        .find(|(s, _)| *s == step)
        .map(|(_, levels)| levels)
}

/// 每一步有几级提示:(第几步, 几级)。给作者的检查用。
pub fn steps(root: &Path, lesson: &str) -> Vec<(usize, usize)> {
    std::fs::read_to_string(file(root, lesson))
        .map(|text| {
            parse(&text)
                .into_iter()
                .map(|(s, l)| (s, l.len()))
                .collect()
        })
        .unwrap_or_default()
}

fn parse(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut steps: Vec<(usize, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("## 第 ") {
            let number = rest.split(' ').next().and_then(|n| n.parse().ok());
            if let Some(number) = number {
                steps.push((number, Vec::new()));
            }
        } else if line.starts_with("### ") {
            if let Some((_, levels)) = steps.last_mut() {
                levels.push(String::new());
            }
        } else if let Some(level) = steps.last_mut().and_then(|(_, l)| l.last_mut()) {
            level.push_str(line);
            level.push('\n');
        }
    }
    for (_, levels) in &mut steps {
        for level in levels.iter_mut() {
            *level = level.trim().to_owned();
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_split_by_headings() {
        let parsed = parse(
            "# 第 1 课\n\n## 第 1 步\n\n### 1\n轻一点\n\n### 2\n重一点\n```rust\nlet x = 1;\n```\n\n## 第 2 步\n### 1\n别的\n",
        );
        assert_eq!(parsed.len(), 2);
        assert_eq!(
            parsed[0].1,
            vec![
                "轻一点".to_owned(),
                "重一点\n```rust\nlet x = 1;\n```".to_owned()
            ]
        );
        assert_eq!(parsed[1], (2, vec!["别的".to_owned()]));
    }

    #[test]
    fn every_skeleton_step_has_three_levels_of_hints() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let repo = crate::repo::Repo::at(&root);
        for dirs in repo.lessons().unwrap() {
            // 和 `course dev check` 用同一个检查。
            if let Err(err) = crate::dev::hints_written(&repo, &dirs) {
                panic!("{}: {err:#}", dirs.title());
            }
        }
    }
}
