//! 一份提交:在原版课程的副本里换上学员的 `src/`,逐课编译、评分,再比较评分用到的文件。

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use harness::Status;

use super::report::stable;
use super::{CheckGrade, LessonGrade, Tampered};
use crate::repo::{LessonDirs, Repo, cargo};

pub(super) fn grade_lesson(
    copy: &Repo,
    dirs: &LessonDirs,
    target: &Path,
    points: &BTreeMap<(String, usize), u32>,
    missing: bool,
) -> Result<LessonGrade> {
    let weight = |number: usize, default: u32| {
        points
            .get(&(dirs.lesson.number.to_owned(), number))
            .copied()
            .unwrap_or(default)
    };
    let mut grade = LessonGrade {
        number: dirs.lesson.number,
        title: dirs.title(),
        compile_error: None,
        missing,
        checks: Vec::new(),
    };
    let built = Command::new(cargo())
        .args(["build", "--quiet", "-p", &dirs.package()])
        .current_dir(&copy.root)
        .env("CARGO_TARGET_DIR", target)
        .stdin(Stdio::null())
        .output()
        .context("无法运行 cargo")?;
    if !built.status.success() {
        let errors = String::from_utf8_lossy(&built.stderr);
        let first: Vec<&str> = errors.lines().take(12).collect();
        grade.compile_error = Some(first.join("\n"));
        grade.checks = dirs
            .lesson
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| CheckGrade {
                number: i + 1,
                name: step.name,
                max: weight(i + 1, step.points),
                status: "not_run",
                headline: None,
            })
            .collect();
        return Ok(grade);
    }
    let exe = target.join("debug").join(format!(
        "{}{}",
        dirs.package(),
        std::env::consts::EXE_SUFFIX
    ));
    // 跑完所有的项(按项给分),不在第一个失败处停下。
    let report = harness::run_with(dirs.lesson, &exe, &dirs.package(), true);
    grade.checks = report
        .steps
        .iter()
        .map(|step| CheckGrade {
            number: step.number,
            name: step.name,
            max: weight(step.number, step.points),
            status: match step.status {
                Status::Passed => "passed",
                Status::Failed => "failed",
                Status::NotRun => "not_run",
                Status::Skipped => "skipped",
            },
            headline: step.headline.as_deref().map(stable),
        })
        .collect();
    Ok(grade)
}

/// 把一课的练习换成从参考答案生成的原样骨架。
pub fn write_skeleton(dirs: &LessonDirs) -> Result<()> {
    let files = crate::skeleton::generate_src(&dirs.solution)?;
    let src = dirs.exercise.join("src");
    if src.exists() {
        fs::remove_dir_all(&src)?;
    }
    for (rel, text) in files {
        let to = dirs.exercise.join(rel);
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(&to, text).with_context(|| format!("无法写入 {}", to.display()))?;
    }
    Ok(())
}

/// 在 `lessons/` 里找第 `number` 课的目录(目录名以课号开头就算,改了名也找得到)。
pub(super) fn find_lesson(lessons: &Path, number: &str) -> Option<PathBuf> {
    fs::read_dir(lessons)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{number}-")))
        })
}

/// 评分用到、学员不该改的文件:和原版比,哪些改了、加了、删了。
pub(super) fn tamper_report(upstream: &Path, submission: &Path) -> Result<Vec<Tampered>> {
    let ours = graded_files(upstream)?;
    let theirs = graded_files(submission)?;
    let mut report = Vec::new();
    for (path, content) in &theirs {
        match ours.get(path) {
            None => report.push(Tampered {
                path: path.clone(),
                change: "added",
            }),
            Some(original) if original != content => {
                report.push(Tampered {
                    path: path.clone(),
                    change: "modified",
                });
            }
            Some(_) => {}
        }
    }
    for path in ours.keys().filter(|p| !theirs.contains_key(*p)) {
        report.push(Tampered {
            path: path.clone(),
            change: "removed",
        });
    }
    report.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(report)
}

/// 一个仓库里和评分有关、但学员不该改的文件:相对路径 → 内容。
fn graded_files(root: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut add = |path: &Path| -> Result<()> {
        if path.is_file() {
            let rel = path.strip_prefix(root).unwrap_or(path);
            files.insert(rel.to_string_lossy().replace('\\', "/"), fs::read(path)?);
        }
        Ok(())
    };
    for name in [
        "Cargo.toml",
        "Cargo.lock",
        "rust-toolchain",
        "rust-toolchain.toml",
    ] {
        add(&root.join(name))?;
    }
    for dir in ["tests", ".cargo"] {
        if root.join(dir).is_dir() {
            for path in crate::skeleton::rust_files(&root.join(dir))? {
                add(&path)?;
            }
        }
    }
    if let Ok(entries) = fs::read_dir(root.join("lessons")) {
        for lesson in entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
            add(&lesson.join("Cargo.toml"))?;
            add(&lesson.join("build.rs"))?;
            if lesson.join("tests").is_dir() {
                for path in crate::skeleton::rust_files(&lesson.join("tests"))? {
                    add(&path)?;
                }
            }
        }
    }
    // 编译产物不算。
    files.retain(|path, _| !path.contains("/target/"));
    Ok(files)
}
