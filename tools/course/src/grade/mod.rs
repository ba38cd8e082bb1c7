//! 老师评分:每一课的每一项,按分值算出总分;可以给一份学员提交的仓库评分。
//!
//! 给提交评分时,学员的仓库里只取每一课的 `lessons/NN-*/src/`。其余的一切(评分器、
//! 评分框架、各课的 `tests/grade.rs` 和 `Cargo.toml`、依赖的版本)都用本仓库的原版:
//! 复制一份本仓库,换上学员的 `src/`,在那里编译;评分器本身就编译在 course 程序里。
//! 所以改动 `tests/` 抬不高分数;改动过的评分文件会列在「改动报告」里。

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

mod report;
mod submission;

use report::{Format, print_table, to_csv, to_json};
pub use submission::write_skeleton;
use submission::{find_lesson, grade_lesson, tamper_report};

use crate::files::{TempDir, copy_course, copy_dir};
use crate::repo::Repo;

#[derive(clap::Args)]
pub struct GradeArgs {
    /// 学员提交的仓库目录。只取其中每一课的 lessons/NN-*/src/,其余一律用本仓库的原版;
    /// 不写就给本仓库自己的练习评分
    #[arg(long)]
    submission: Option<PathBuf>,

    /// 只评这几课,逗号分隔,比如 01,02(默认全部)
    #[arg(long, value_delimiter = ',')]
    lessons: Vec<String>,

    /// 输出格式
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// 分值文件:每行「课号.项号 = 分值」,比如「06.5 = 4」,覆盖默认分值;# 开头的是注释
    #[arg(long)]
    points: Option<PathBuf>,

    /// 不是满分时以退出码 1 结束(GitHub Classroom 按退出码给分)
    #[arg(long)]
    strict: bool,
}

/// 一课的成绩。
pub(super) struct LessonGrade {
    number: &'static str,
    title: String,
    /// 编译失败时,编译器输出的前几行。
    compile_error: Option<String>,
    /// 学员的提交里没有这一课时为 true(评的是原样的骨架)。
    missing: bool,
    checks: Vec<CheckGrade>,
}

pub(super) struct CheckGrade {
    number: usize,
    name: &'static str,
    max: u32,
    status: &'static str,
    headline: Option<String>,
}

impl CheckGrade {
    fn earned(&self) -> u32 {
        if self.status == "passed" { self.max } else { 0 }
    }
}

impl LessonGrade {
    fn earned(&self) -> u32 {
        self.checks.iter().map(CheckGrade::earned).sum()
    }
    fn max(&self) -> u32 {
        self.checks.iter().map(|c| c.max).sum()
    }
}

/// 一个被改动过的评分文件。
pub(super) struct Tampered {
    path: String,
    change: &'static str,
}

pub fn run(repo: &Repo, args: &GradeArgs) -> Result<ExitCode> {
    let points = match &args.points {
        Some(path) => load_points(path)?,
        None => BTreeMap::new(),
    };
    let mut lessons = repo.lessons()?;
    if !args.lessons.is_empty() {
        let wanted: Vec<&'static str> = args
            .lessons
            .iter()
            .map(|n| repo.lesson(n).map(|d| d.lesson.number))
            .collect::<Result<_>>()?;
        lessons.retain(|d| wanted.contains(&d.lesson.number));
    }
    let source = args.submission.as_deref().unwrap_or(&repo.root);
    if !source.join("lessons").is_dir() {
        bail!(
            "{} 里没有 lessons/ 目录:它不像是这门课的仓库",
            source.display()
        );
    }

    // 原版的一份副本,换上学员的 src/。
    let work = TempDir::new("grade")?;
    copy_course(&repo.root, &work.0)?;
    let copy = Repo::at(&work.0);
    let mut missing = Vec::new();
    for dirs in copy.lessons()? {
        let theirs = find_lesson(&source.join("lessons"), dirs.lesson.number);
        match theirs.map(|dir| dir.join("src")).filter(|src| src.is_dir()) {
            Some(src) => {
                fs::remove_dir_all(dirs.exercise.join("src"))?;
                copy_dir(&src, &dirs.exercise.join("src"))?;
            }
            None => {
                // 没交这一课:评原样的骨架(从参考答案生成,不用本仓库里可能已经写好的练习)。
                write_skeleton(&dirs)?;
                missing.push(dirs.lesson.number);
            }
        }
    }

    // 编译放在本仓库的 target/ 下(依赖编译一次,之后每份提交都复用),和平时的 target 分开。
    let target = repo.target_dir().join("course-grade");
    let mut grades = Vec::new();
    for dirs in copy
        .lessons()?
        .iter()
        .filter(|d| lessons.iter().any(|l| l.lesson.number == d.lesson.number))
    {
        eprintln!("评分:{}", dirs.title());
        grades.push(grade_lesson(
            &copy,
            dirs,
            &target,
            &points,
            missing.contains(&dirs.lesson.number),
        )?);
    }
    let tampered = match &args.submission {
        Some(submission) => tamper_report(&repo.root, submission)?,
        None => Vec::new(),
    };

    let shown_source = args.submission.as_ref().map(|p| p.display().to_string());
    match args.format {
        Format::Table => print_table(shown_source.as_deref(), &grades, &tampered),
        Format::Json => println!("{}", to_json(shown_source.as_deref(), &grades, &tampered)),
        Format::Csv => print!("{}", to_csv(&grades)),
    }
    let full = grades.iter().all(|g| g.earned() == g.max());
    Ok(if args.strict && !full {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// 读分值文件:每行「课号.项号 = 分值」。
fn load_points(path: &Path) -> Result<BTreeMap<(String, usize), u32>> {
    let text = fs::read_to_string(path).with_context(|| format!("读不到 {}", path.display()))?;
    let mut points = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let parsed = line.split_once('=').and_then(|(key, value)| {
            let (lesson, check) = key.trim().split_once('.')?;
            let lesson = harness::lesson(lesson.trim())?.number.to_owned();
            Some((
                (lesson, check.trim().parse().ok()?),
                value.trim().parse().ok()?,
            ))
        });
        let Some((key, value)) = parsed else {
            bail!(
                "{} 第 {} 行看不懂:「{line}」,应该像「06.5 = 4」",
                path.display(),
                i + 1
            );
        };
        points.insert(key, value);
    }
    Ok(points)
}
