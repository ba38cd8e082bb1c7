//! 学习进度:一个普通的文本文件 `.course/progress`,一行一条,删掉它就从头开始。
//!
//! 按课号记录(不按目录名),所以目录改名了也不受影响。

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// 一课最近一次评分的结果。
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Graded {
    pub passed: usize,
    pub total: usize,
}

impl Graded {
    pub fn done(&self) -> bool {
        self.total > 0 && self.passed == self.total
    }
}

#[derive(Default)]
pub struct Progress {
    path: PathBuf,
    /// 课号 → 最近一次评分。
    pub graded: BTreeMap<String, Graded>,
    /// (课号, 第几步) → 已经看过第几级提示。
    pub hints: BTreeMap<(String, usize), usize>,
}

const HEADER: &str = "# Socket 编程实战的学习进度(`course` 读写它)。删掉这个文件就从头开始;\n\
                      # `course reset NN` 只清掉那一课。\n";

impl Progress {
    pub fn file(root: &Path) -> PathBuf {
        root.join(".course").join("progress")
    }

    /// 读进度;文件不存在就是什么都没做过。看不懂的行跳过。
    pub fn load(root: &Path) -> Progress {
        let path = Progress::file(root);
        let mut progress = Progress {
            path: path.clone(),
            ..Progress::default()
        };
        let Ok(text) = fs::read_to_string(&path) else {
            return progress;
        };
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["lesson", number, "passed", passed, "of", total] => {
                    if let (Ok(passed), Ok(total)) = (passed.parse(), total.parse()) {
                        progress
                            .graded
                            .insert((*number).to_owned(), Graded { passed, total });
                    }
                }
                ["hint", number, "step", step, "level", level] => {
                    if let (Ok(step), Ok(level)) = (step.parse(), level.parse()) {
                        progress.hints.insert(((*number).to_owned(), step), level);
                    }
                }
                _ => {}
            }
        }
        progress
    }

    pub fn save(&self) -> Result<()> {
        let mut text = HEADER.to_owned();
        for (number, g) in &self.graded {
            text += &format!("lesson {number} passed {} of {}\n", g.passed, g.total);
        }
        for ((number, step), level) in &self.hints {
            text += &format!("hint {number} step {step} level {level}\n");
        }
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("无法创建 {}", dir.display()))?;
        }
        fs::write(&self.path, text).with_context(|| format!("无法写入 {}", self.path.display()))
    }

    /// 忘掉一课的一切(评分和提示)。
    pub fn forget(&mut self, number: &str) {
        self.graded.remove(number);
        self.hints.retain(|(n, _), _| n != number);
    }
}
