//! 老师评分:每一课的每一项,按分值算出总分;可以给一份学员提交的仓库评分。
//!
//! 给提交评分时,学员的仓库里只取每一课的 `lessons/NN-*/src/`。其余的一切(评分器、
//! 评分框架、各课的 `tests/grade.rs` 和 `Cargo.toml`、依赖的版本)都用本仓库的原版:
//! 复制一份本仓库,换上学员的 `src/`,在那里编译;评分器本身就编译在 course 程序里。
//! 所以改动 `tests/` 抬不高分数;改动过的评分文件会列在「改动报告」里。

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use harness::Status;
use harness::report::json_string;

use crate::repo::{LessonDirs, Repo, cargo};
use crate::{Format, TempDir};

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
struct LessonGrade {
    number: &'static str,
    title: String,
    /// 编译失败时,编译器输出的前几行。
    compile_error: Option<String>,
    /// 学员的提交里没有这一课时为 true(评的是原样的骨架)。
    missing: bool,
    checks: Vec<CheckGrade>,
}

struct CheckGrade {
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
struct Tampered {
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

fn grade_lesson(
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

/// 把每次运行都不一样的东西(端口号)换掉,同一份提交评两次,报告一字不差。
fn stable(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("127.0.0.1:") {
        let (before, after) = rest.split_at(at + "127.0.0.1:".len());
        out.push_str(before);
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        out.push_str(if digits > 0 { "<端口>" } else { "" });
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
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

/// 在 `lessons/` 里找第 `number` 课的目录(目录名以课号开头就算,改了名也找得到)。
fn find_lesson(lessons: &Path, number: &str) -> Option<PathBuf> {
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

/// 复制课程仓库,不要编译产物、git 和学习进度这些东西。
pub fn copy_course(from: &Path, to: &Path) -> Result<()> {
    const SKIP: [&str; 5] = ["target", ".git", ".course", "node_modules", "book"];
    for entry in fs::read_dir(from)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if SKIP.contains(&name.as_str()) {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(&name))?;
        } else {
            fs::copy(&path, to.join(&name))?;
        }
    }
    Ok(())
}

pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("读不到 {}", from.display()))? {
        let path = entry?.path();
        let dest = to.join(path.file_name().unwrap_or_default());
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            copy_dir(&path, &dest)?;
        } else {
            fs::copy(&path, &dest).with_context(|| format!("无法复制 {}", path.display()))?;
        }
    }
    Ok(())
}

/// 评分用到、学员不该改的文件:和原版比,哪些改了、加了、删了。
fn tamper_report(upstream: &Path, submission: &Path) -> Result<Vec<Tampered>> {
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

fn change_words(change: &str) -> &'static str {
    match change {
        "added" => "新加的",
        "removed" => "删掉了",
        _ => "改动过",
    }
}

fn print_table(source: Option<&str>, grades: &[LessonGrade], tampered: &[Tampered]) {
    if let Some(source) = source {
        println!("提交:{source}");
    }
    println!("评分器:本仓库的原版(学员的 tests/ 和 Cargo.toml 一律不用)\n");
    for grade in grades {
        let marks: String = grade
            .checks
            .iter()
            .map(|c| match c.status {
                "passed" => '✓',
                "failed" => '✗',
                "skipped" => '○',
                _ => '·',
            })
            .collect();
        let note = if grade.compile_error.is_some() {
            "  编译失败"
        } else if grade.missing {
            "  没有提交(评的是骨架)"
        } else {
            ""
        };
        println!(
            "  {:>3}/{:<3} {marks:<14} {}{note}",
            grade.earned(),
            grade.max(),
            grade.title
        );
    }
    let earned: u32 = grades.iter().map(LessonGrade::earned).sum();
    let max: u32 = grades.iter().map(LessonGrade::max).sum();
    println!("\n  总分 {earned}/{max}");

    let failed: Vec<_> = grades
        .iter()
        .flat_map(|g| {
            g.checks
                .iter()
                .filter(|c| c.status == "failed")
                .map(move |c| (g, c))
        })
        .collect();
    if !failed.is_empty() {
        println!("\n没通过的检查:");
        for (grade, check) in failed {
            println!(
                "  第 {} 课第 {} 项「{}」:{}",
                grade.number.trim_start_matches('0'),
                check.number,
                check.name,
                check.headline.as_deref().unwrap_or("")
            );
        }
    }
    for grade in grades {
        if let Some(error) = &grade.compile_error {
            println!("\n{} 编译失败:\n{error}", grade.title);
        }
    }
    if let Some(_source) = source {
        if tampered.is_empty() {
            println!("\n改动报告:评分用到的文件和原版一样。");
        } else {
            println!("\n改动报告:这些评分用到的文件和原版不一样(评分时没有用它们,用的是原版):");
            for t in tampered {
                println!("  {} {}", change_words(t.change), t.path);
            }
        }
    }
}

fn to_json(source: Option<&str>, grades: &[LessonGrade], tampered: &[Tampered]) -> String {
    let lessons: Vec<String> = grades
        .iter()
        .map(|g| {
            let checks: Vec<String> = g
                .checks
                .iter()
                .map(|c| {
                    format!(
                        "{{\"number\":{},\"name\":{},\"points\":{},\"earned\":{},\"status\":\"{}\",\"headline\":{}}}",
                        c.number,
                        json_string(c.name),
                        c.max,
                        c.earned(),
                        c.status,
                        c.headline.as_deref().map_or("null".to_owned(), json_string)
                    )
                })
                .collect();
            format!(
                "{{\"lesson\":\"{}\",\"title\":{},\"compiled\":{},\"submitted\":{},\"earned\":{},\"points\":{},\"checks\":[{}]}}",
                g.number,
                json_string(&g.title),
                g.compile_error.is_none(),
                !g.missing,
                g.earned(),
                g.max(),
                checks.join(",")
            )
        })
        .collect();
    let tampered: Vec<String> = tampered
        .iter()
        .map(|t| {
            format!(
                "{{\"path\":{},\"change\":\"{}\"}}",
                json_string(&t.path),
                t.change
            )
        })
        .collect();
    format!(
        "{{\"submission\":{},\"earned\":{},\"points\":{},\"lessons\":[{}],\"tampered\":[{}]}}",
        source.map_or("null".to_owned(), json_string),
        grades.iter().map(LessonGrade::earned).sum::<u32>(),
        grades.iter().map(LessonGrade::max).sum::<u32>(),
        lessons.join(","),
        tampered.join(",")
    )
}

fn to_csv(grades: &[LessonGrade]) -> String {
    let mut out = "lesson,check,name,status,earned,points\n".to_owned();
    for g in grades {
        for c in &g.checks {
            out += &format!(
                "{},{},{},{},{},{}\n",
                g.number,
                c.number,
                csv_field(c.name),
                c.status,
                c.earned(),
                c.max
            );
        }
    }
    let earned: u32 = grades.iter().map(LessonGrade::earned).sum();
    let max: u32 = grades.iter().map(LessonGrade::max).sum();
    out += &format!("total,,,,{earned},{max}\n");
    out
}

/// CSV 的一个字段:有逗号、引号或换行时加引号,引号写两遍。
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_hidden_so_reports_are_stable() {
        assert_eq!(
            stable("连不上服务器 127.0.0.1:40123"),
            "连不上服务器 127.0.0.1:<端口>"
        );
        assert_eq!(stable("没有端口"), "没有端口");
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("普通"), "普通");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("说\"你好\""), "\"说\"\"你好\"\"\"");
    }
}
