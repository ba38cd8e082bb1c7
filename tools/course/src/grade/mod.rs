//! 老师评分:每一课的每一项,按分值算出总分。
//!
//! - `course grade --submission 目录`:给一份提交评分(见 [`submission`]);
//! - `course grade --class 目录`:给全班评分,每份提交一个沙箱,并行,有缓存,
//!   输出成绩册、报告和逐项分析(见 [`class`]);`--shard K/N` 只评其中一份,
//!   `course grade merge` 把几台机器评的几份合起来(见 [`merge`]);成绩册、报告和反馈
//!   怎样写出来,见 [`gradebook`]。
//!
//! 学员的代码在沙箱里编译、运行(见 [`sandbox`]);评分器在沙箱里和它一起运行(见 [`inside`])。

use clap_zh::{say, say_part};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

mod analysis;
mod class;
mod gradebook;
mod html;
mod inside;
mod intake;
mod limit;
mod merge;
mod report;
mod sandbox;
mod submission;
mod zip;

use report::{Format, print_table, to_csv, to_json};
pub use submission::write_skeleton;

use crate::files::TempDir;
use crate::repo::Repo;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct GradeArgs {
    #[command(subcommand)]
    action: Option<Action>,

    /// 学员提交的仓库目录。只取其中每一课的 lessons/NN-*/src/,其余一律用本仓库的原版;不写就给本仓库自己的练习评分
    #[arg(long, conflicts_with = "class")]
    submission: Option<PathBuf>,

    /// 给全班评分:目录里每个学员一份提交(文件夹、.zip 或 .tar.gz,以学员命名)
    #[arg(long)]
    class: Option<PathBuf>,

    /// 全班评分的输出目录(gradebook.csv、report.json、report.html、feedback/),默认 grades/
    #[arg(long, default_value = "grades", hide_default_value = true)]
    out: PathBuf,

    /// 同时评几份提交(默认是 CPU 核数)
    #[arg(long)]
    jobs: Option<usize>,

    /// 只评第 K 份(共 N 份),比如 2/10:几台机器分着评,再用 course grade merge 合起来
    #[arg(long, value_parser = class::parse_shard)]
    shard: Option<(usize, usize)>,

    /// 不用缓存,每份提交都重新评
    #[arg(long)]
    no_cache: bool,

    /// 不用 bubblewrap 隔离,只设资源上限(不推荐)
    #[arg(long)]
    no_sandbox: bool,

    /// 沙箱不完整(没有 bubblewrap,或者它在这台机器上建不出沙箱)时不评分,直接失败;在 CI 的 runner 上用
    #[arg(long, conflicts_with = "no_sandbox")]
    require_sandbox: bool,

    /// 只评这几课,逗号分隔,比如 01,02(默认全部)
    #[arg(long, value_delimiter = ',')]
    lessons: Vec<String>,

    /// 输出格式(给一份提交评分时):table 给人看的表格(默认)、json 给程序读、csv 给电子表格
    #[arg(
        long,
        value_enum,
        default_value_t = Format::Table,
        hide_default_value = true,
        hide_possible_values = true
    )]
    format: Format,

    /// 分值文件:每行「课号.项号 = 分值」,比如「06.5 = 4」,覆盖默认分值;# 开头的是注释
    #[arg(long)]
    points: Option<PathBuf>,

    /// 不是满分时以退出码 1 结束(GitHub Classroom 按退出码给分)
    #[arg(long)]
    strict: bool,
}

#[derive(clap::Subcommand)]
enum Action {
    /// 把几台机器分别评的几份(--shard K/N 的输出目录)合成一份成绩册
    #[command(help_template = crate::SUBCOMMAND_HELP)]
    Merge(merge::MergeArgs),
    /// (内部)设好资源上限,再运行一个命令
    #[command(name = "__limit", hide = true)]
    Limit(limit::LimitArgs),
    /// (内部)在沙箱里运行评分器
    #[command(name = "__inside", hide = true)]
    Inside(inside::InsideArgs),
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
    /// 失败时完整的诊断(写进给学员的反馈)。
    message: Option<String>,
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
    /// 满分:这台机器上做不了、跳过了的检查不算(和评分框架的 `Report::points` 一样)。
    fn max(&self) -> u32 {
        self.checks
            .iter()
            .filter(|c| c.status != "skipped")
            .map(|c| c.max)
            .sum()
    }
}

/// 一个被改动过的评分文件。
pub(super) struct Tampered {
    path: String,
    change: &'static str,
}

/// 一份提交的全部结果。
#[derive(Default)]
pub(super) struct SubmissionGrade {
    lessons: Vec<LessonGrade>,
    tampered: Vec<Tampered>,
    /// 沙箱看到的事件(碰到上限、读诱饵私钥、连诱饵端口……)。
    events: BTreeSet<String>,
    /// 编译或评分超过了时限。
    timed_out: bool,
    /// 沙箱里的评分器自己出了问题。
    error: Option<String>,
    /// 用的是什么沙箱(`bubblewrap`、`limits-only`、`none`)。
    sandbox: &'static str,
}

pub fn run(args: &GradeArgs) -> Result<ExitCode> {
    match &args.action {
        Some(Action::Limit(args)) => return limit::limit(args),
        Some(Action::Inside(inside)) => return inside::run(inside),
        _ => {}
    }
    let repo = Repo::find()?;
    match &args.action {
        Some(Action::Merge(args)) => merge::merge(&repo, args),
        _ if args.class.is_some() => class::run(&repo, args),
        _ => grade_one(&repo, args),
    }
}

/// 看看这台机器能做到什么样的沙箱;`--require-sandbox` 而沙箱不完整时,一份也不评。
fn detect_sandbox(args: &GradeArgs) -> Result<sandbox::Sandbox> {
    let sandbox = sandbox::Sandbox::detect(!args.no_sandbox)?;
    if args.require_sandbox && !sandbox.isolated() {
        bail!(
            "沙箱:{}\n用了 --require-sandbox:沙箱不完整,一份提交也没有评",
            sandbox.describe()
        );
    }
    Ok(sandbox)
}

/// 要评的课(`--lessons`,默认全部)。
fn selected_lessons(args: &GradeArgs) -> Result<Vec<&'static harness::Lesson>> {
    if args.lessons.is_empty() {
        return Ok(harness::LESSONS.to_vec());
    }
    args.lessons
        .iter()
        .map(|n| {
            let number = n.split('-').next().unwrap_or(n);
            harness::lesson(number).with_context(|| {
                format!("没有第 {n} 课;课号是 01 到 {:02}", harness::LESSONS.len())
            })
        })
        .collect()
}

/// 给一份提交(或本仓库自己的练习)评分。
fn grade_one(repo: &Repo, args: &GradeArgs) -> Result<ExitCode> {
    let points = Points::load(args.points.as_deref())?;
    let sandbox = detect_sandbox(args)?;
    eprintln!("沙箱:{}", sandbox.describe());
    // 提交放在课程仓库里(`--submission submissions/alice`)时,别把它复制进课程副本。
    let private: Vec<PathBuf> = args.submission.iter().cloned().collect();
    let seed = submission::prepare_seed(repo, &private)?;
    let grader = submission::Grader {
        repo,
        sandbox: &sandbox,
        seed: &seed,
        lessons: selected_lessons(args)?,
        points: &points,
        decoys: if sandbox.isolated() {
            sandbox::listening_ports()
        } else {
            Vec::new()
        },
        private: &private,
    };
    let source = args.submission.as_deref().unwrap_or(&repo.root);
    let scratch = TempDir::new("grade")?;
    let grade = grader.grade(source, &scratch.0, 0)?;

    let shown_source = args.submission.as_ref().map(|p| p.display().to_string());
    match args.format {
        Format::Table => print_table(shown_source.as_deref(), &grade),
        Format::Json => say!("{}", to_json(shown_source.as_deref(), &grade)),
        Format::Csv => say_part!("{}", to_csv(&grade.lessons)),
    }
    let full = grade.lessons.iter().all(|g| g.earned() == g.max());
    Ok(if args.strict && !full {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// 分值:默认用评分器里每一项的分值,分值文件里写到的项换成文件里的。
#[derive(Default)]
pub(super) struct Points {
    overrides: BTreeMap<(String, usize), u32>,
}

impl Points {
    fn load(path: Option<&Path>) -> Result<Points> {
        Ok(Points {
            overrides: match path {
                Some(path) => load_points(path)?,
                None => BTreeMap::new(),
            },
        })
    }

    pub(super) fn weight(&self, lesson: &str, check: usize, default: u32) -> u32 {
        self.overrides
            .get(&(lesson.to_owned(), check))
            .copied()
            .unwrap_or(default)
    }

    /// 给缓存的键用:分值变了,缓存的结果就不能用。
    pub(super) fn fingerprint(&self) -> String {
        format!("{:?}", self.overrides)
    }
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
