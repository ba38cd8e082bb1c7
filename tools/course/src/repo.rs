//! 课程仓库:它在哪,有哪几课,怎样编译一课。

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use harness::Lesson;

/// 课程仓库的根目录。
pub struct Repo {
    pub root: PathBuf,
}

/// 仓库里的一课:评分器,以及练习和参考答案的目录。
pub struct LessonDirs {
    pub lesson: &'static Lesson,
    /// 比如 `06-chat`。
    pub name: String,
    pub exercise: PathBuf,
    pub solution: PathBuf,
}

impl LessonDirs {
    /// 练习的包名,比如 `lesson-06`。
    pub fn package(&self) -> String {
        format!("lesson-{}", self.lesson.number)
    }

    pub fn solution_package(&self) -> String {
        format!("solution-{}", self.lesson.number)
    }

    /// 给人看的课名,比如「第 6 课 · 多人聊天室」。
    pub fn title(&self) -> String {
        self.lesson.chapter_title()
    }
}

impl Repo {
    /// 从当前目录往上找课程仓库的根目录(有 `lessons/` 和 workspace 的 `Cargo.toml`);
    /// 找不到时用编译 course 时的那个仓库。
    pub fn find() -> Result<Repo> {
        let start = std::env::current_dir().context("读不到当前目录")?;
        let found = start.ancestors().find(|dir| is_course_root(dir));
        let root = match found {
            Some(dir) => dir.to_path_buf(),
            None => {
                let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
                if !is_course_root(&built_from) {
                    bail!("找不到课程仓库:请在仓库目录(有 lessons/ 的那个)里运行");
                }
                built_from
            }
        };
        Ok(Repo {
            root: root.canonicalize().unwrap_or(root),
        })
    }

    pub fn at(root: &Path) -> Repo {
        Repo {
            root: root.to_path_buf(),
        }
    }

    /// 每一课的目录,按课号排好。
    pub fn lessons(&self) -> Result<Vec<LessonDirs>> {
        harness::LESSONS
            .iter()
            .map(|&lesson| {
                let find = |side: &str| -> Result<PathBuf> {
                    let parent = self.root.join(side);
                    let entries = std::fs::read_dir(&parent)
                        .with_context(|| format!("读不到 {}", parent.display()))?;
                    for entry in entries {
                        let path = entry?.path();
                        let name = path.file_name().unwrap_or_default().to_string_lossy();
                        if path.is_dir() && name.starts_with(&format!("{}-", lesson.number)) {
                            return Ok(path);
                        }
                    }
                    bail!("{side}/ 里没有第 {} 课的目录", lesson.number)
                };
                let exercise = find("lessons")?;
                let solution = find("solutions")?;
                let name = exercise
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                Ok(LessonDirs {
                    lesson,
                    name,
                    exercise,
                    solution,
                })
            })
            .collect()
    }

    /// 按课号("6"、"06"、"06-chat" 都行)找一课。
    pub fn lesson(&self, number: &str) -> Result<LessonDirs> {
        let number = number.split('-').next().unwrap_or(number);
        let wanted = harness::lesson(number).with_context(|| {
            format!(
                "没有第 {number} 课;课号是 01 到 {:02}",
                harness::LESSONS.len()
            )
        })?;
        self.lessons()?
            .into_iter()
            .find(|l| l.lesson.number == wanted.number)
            .with_context(|| format!("仓库里没有第 {number} 课的目录"))
    }

    /// 编译出的程序放在哪里(认 `CARGO_TARGET_DIR`)。
    pub fn target_dir(&self) -> PathBuf {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.root.join("target"))
    }

    /// 编译一个包,返回它的程序的路径。编译器的输出直接显示给学员。
    pub fn build(&self, package: &str, target_dir: &Path) -> Result<PathBuf> {
        let status = Command::new(cargo())
            .args(["build", "--quiet", "-p", package])
            .current_dir(&self.root)
            .env("CARGO_TARGET_DIR", target_dir)
            .stdin(Stdio::null())
            .status()
            .context("无法运行 cargo")?;
        if !status.success() {
            bail!("{package} 编译失败(编译器的信息在上面)");
        }
        let exe = target_dir
            .join("debug")
            .join(format!("{package}{}", std::env::consts::EXE_SUFFIX));
        if !exe.exists() {
            bail!("编译成功了,却找不到程序 {}", exe.display());
        }
        Ok(exe)
    }
}

/// 运行 course 的那个 cargo(`cargo run` 会设置 `CARGO`)。
pub fn cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}

fn is_course_root(dir: &Path) -> bool {
    dir.join("lessons").is_dir()
        && dir.join("solutions").is_dir()
        && std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|t| t.contains("[workspace]"))
}
