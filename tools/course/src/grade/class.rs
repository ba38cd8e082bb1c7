//! 给全班评分:`course grade --class 目录`。
//!
//! 1. 收作业(见 [`super::intake`]):目录里每个学员一份,文件夹、.zip 或 .tar.gz;
//! 2. 原版的依赖在沙箱外编译一次(见 [`super::submission::prepare_seed`]),
//!    每份提交复制一份来用,只编译学员自己的几课;
//! 3. 几份提交同时评(`--jobs`,默认是 CPU 核数),每份一个沙箱;
//! 4. 评过的结果按内容缓存:课程和提交都没变,就不再评一遍(补交了三份,就只评这三份);
//! 5. 写出成绩册、报告、网页和每个人的反馈,在终端里打印逐项分析。
//!
//! `--shard K/N` 只评按名字排好后的第 K、K+N、K+2N……份,几台机器(比如 GitHub Actions 的
//! 一组 runner)各评一份,再用 `course grade merge` 合起来。

use clap_zh::say;
use std::collections::BTreeSet;
use std::fs;
use std::hash::{Hash as _, Hasher as _};
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use colored::Colorize as _;

use super::gradebook::{Book, Status, Student};
use super::intake::{self, Entry};
use super::sandbox::{self, Sandbox};
use super::submission::{self, Grader};
use super::{GradeArgs, Points, analysis, selected_lessons};
use crate::files::TempDir;
use crate::repo::Repo;

/// `--shard` 的值:「K/N」,1 ≤ K ≤ N。
pub(super) fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let parsed = text
        .split_once('/')
        .and_then(|(k, n)| Some((k.trim().parse().ok()?, n.trim().parse().ok()?)));
    match parsed {
        Some((k, n)) if k >= 1 && k <= n => Ok((k, n)),
        _ => Err(format!("「{text}」不对:应该像 2/10(第 2 份,共 10 份)")),
    }
}

/// 第 K 份(共 N 份):按名字排好的第 K、K+N、K+2N……个。每一份的人数最多差一个。
pub(super) fn shard(entries: Vec<Entry>, shard: Option<(usize, usize)>) -> Vec<Entry> {
    match shard {
        None => entries,
        Some((k, n)) => entries
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % n == k - 1)
            .map(|(_, e)| e)
            .collect(),
    }
}

pub(super) fn run(repo: &Repo, args: &GradeArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let class = args.class.as_deref().context("没有 --class")?;
    let all = intake::list(class)?;
    let in_class = all.len();
    let entries = shard(all, args.shard);
    if entries.is_empty() {
        bail!("{} 里没有要评的提交", class.display());
    }
    let sandbox = super::detect_sandbox(args)?;
    let line = format!("沙箱:{}", sandbox.describe());
    if sandbox.isolated() {
        eprintln!("{line}");
    } else {
        eprintln!("{}", line.yellow().bold());
    }
    let points = Points::load(args.points.as_deref())?;
    let lessons = selected_lessons(args)?;
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    match args.shard {
        Some((k, n)) => eprintln!(
            "第 {k} 份(共 {n} 份):全班 {in_class} 人中的 {} 人",
            entries.len()
        ),
        None => eprintln!("全班 {} 人", entries.len()),
    }
    eprintln!("编译原版的依赖(只在第一次慢)……");
    // 全班的提交和以前的成绩册可能就放在课程仓库里(`--class submissions --out grades`):
    // 它们不能进每份提交编译用的课程副本,否则学员的代码能把别人的作业编进自己的程序。
    let private = [class.to_path_buf(), args.out.clone()];
    let seed = submission::prepare_seed(repo, &private)?;
    let grader = Grader {
        repo,
        sandbox: &sandbox,
        seed: &seed,
        lessons: lessons.clone(),
        points: &points,
        decoys: if sandbox.isolated() {
            sandbox::listening_ports()
        } else {
            Vec::new()
        },
        private: &private,
    };
    let cache = Cache::new(repo, &sandbox, &lessons, &points, &private, args.no_cache)?;
    let work = TempDir::new("class")?;

    eprintln!("同时评 {jobs} 份\n");
    let progress = Progress::new(entries.len());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Student>>> =
        Mutex::new((0..entries.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for slot in 0..jobs.min(entries.len()) {
            let (grader, cache, work, entries, progress, next, results) =
                (&grader, &cache, &work, &entries, &progress, &next, &results);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(entry) = entries.get(i) else {
                        break;
                    };
                    let scratch = work.0.join(format!("{slot}"));
                    let (student, cached) = grade_student(grader, cache, entry, &scratch, slot);
                    let _ = fs::remove_dir_all(&scratch);
                    progress.finish(&student, cached);
                    results.lock().unwrap_or_else(PoisonError::into_inner)[i] = Some(student);
                }
            });
        }
    });
    progress.clear();

    let students: Vec<Student> = results
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect();
    let book = Book {
        points: lessons
            .iter()
            .map(|l| {
                l.steps
                    .iter()
                    .enumerate()
                    .map(|(i, s)| points.weight(l.number, i + 1, s.points))
                    .collect()
            })
            .collect(),
        lessons,
        students,
        sandboxes: BTreeSet::from([sandbox.mode().to_owned()]),
        shard: args.shard,
    };
    book.write(&args.out)?;
    let items = analysis::analyse(&book);
    analysis::print(&book, &items);
    say!(
        "\n用时 {:.1} 秒。成绩册 {},报告 {} 和 {},每人的反馈在 {}",
        started.elapsed().as_secs_f64(),
        args.out.join("gradebook.csv").display(),
        args.out.join("report.json").display(),
        args.out.join("report.html").display(),
        args.out.join("feedback").display()
    );
    if !sandbox.isolated() {
        say!("{}", line.yellow().bold());
    }
    Ok(ExitCode::SUCCESS)
}

/// 评一个学员:解开、查缓存、评分、存缓存。返回结果和它是不是来自缓存。
fn grade_student(
    grader: &Grader,
    cache: &Cache,
    entry: &Entry,
    scratch: &Path,
    slot: usize,
) -> (Student, bool) {
    let unpacked = scratch.join("submission");
    let root = match intake::unpack(entry, &unpacked) {
        Ok(root) => root,
        Err(why) => return (Student::unreadable(&entry.name, why), false),
    };
    let key = intake::fingerprint(&root).ok().map(|f| cache.key(f));
    if let Some(mut student) = key.as_deref().and_then(|k| cache.get(k)) {
        student.name = entry.name.clone();
        return (student, true);
    }
    let student = match grader.grade(&root, scratch, slot) {
        Ok(grade) => Student::graded(&entry.name, grade),
        Err(err) => Student {
            name: entry.name.clone(),
            status: Status::Error,
            note: format!("{err:#}"),
            grade: None,
        },
    };
    // 超时和出错可能只是这台机器当时太忙:不缓存,下次再评。
    if let Some(key) = key
        && !matches!(student.status, Status::TimedOut | Status::Error)
    {
        cache.put(&key, &student);
    }
    (student, false)
}

/// 评分结果的缓存:`target/course-grade/cache/键.json`。键由课程(course 程序本身,
/// 评分器就编译在里面;以及原版课程的每个文件)、要评的课、分值、沙箱的种类和提交的内容算出来。
struct Cache {
    dir: PathBuf,
    base: u64,
    disabled: bool,
}

impl Cache {
    fn new(
        repo: &Repo,
        sandbox: &Sandbox,
        lessons: &[&'static harness::Lesson],
        points: &Points,
        private: &[PathBuf],
        disabled: bool,
    ) -> Result<Cache> {
        let dir = repo.target_dir().join("course-grade").join("cache");
        fs::create_dir_all(&dir)?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        let exe = std::env::current_exe()?;
        fs::read(&exe)
            .with_context(|| format!("读不到 {}", exe.display()))?
            .hash(&mut hasher);
        // 原版课程的每个文件:没交的课按原版骨架评,评分器和清单也在这里面。
        crate::files::hash_course(&repo.root, private, &mut hasher)?;
        for lesson in lessons {
            lesson.number.hash(&mut hasher);
        }
        points.fingerprint().hash(&mut hasher);
        sandbox.mode().hash(&mut hasher);
        Ok(Cache {
            dir,
            base: hasher.finish(),
            disabled,
        })
    }

    fn key(&self, content: u64) -> String {
        format!("{:016x}-{content:016x}", self.base)
    }

    fn get(&self, key: &str) -> Option<Student> {
        if self.disabled {
            return None;
        }
        let text = fs::read_to_string(self.dir.join(format!("{key}.json"))).ok()?;
        Student::from_json(&serde_json::from_str(&text).ok()?).ok()
    }

    fn put(&self, key: &str, student: &Student) {
        let text = student.to_json(true).to_string();
        let tmp = self.dir.join(format!("{key}.tmp{}", std::process::id()));
        // 先写临时文件再改名:并行的两个评分不会读到写了一半的缓存。
        if fs::write(&tmp, text).is_ok() {
            let _ = fs::rename(&tmp, self.dir.join(format!("{key}.json")));
        }
    }
}

/// 进度条:评完几份、有问题的几份、大概还要多久。终端里原地刷新;不是终端(CI 的日志)
/// 时每评完一份打印一行。
struct Progress {
    total: usize,
    started: Instant,
    state: Mutex<(usize, usize)>,
    tty: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            started: Instant::now(),
            state: Mutex::new((0, 0)),
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn finish(&self, student: &Student, cached: bool) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 += 1;
        if student.status != Status::Graded {
            state.1 += 1;
        }
        let (done, trouble) = *state;
        let elapsed = self.started.elapsed().as_secs_f64();
        let left = elapsed / done as f64 * (self.total - done) as f64;
        let eta = if done == self.total {
            "完成".to_owned()
        } else {
            format!("大约还要 {}", minutes(left))
        };
        let mut err = std::io::stderr().lock();
        if self.tty {
            let width = 30;
            let filled = done * width / self.total;
            let _ = write!(
                err,
                "\r[{}{}] {done}/{} 有问题 {trouble} {eta}   ",
                "#".repeat(filled),
                "-".repeat(width - filled),
                self.total
            );
        } else {
            let _ = writeln!(
                err,
                "[{done}/{}] {}:{}{}{}(有问题 {trouble},{eta})",
                self.total,
                student.name,
                student.status.words(),
                student
                    .grade
                    .as_ref()
                    .map(|_| format!(" {} 分", student.earned()))
                    .unwrap_or_default(),
                if cached { ",来自缓存" } else { "" }
            );
        }
        let _ = err.flush();
    }

    fn clear(&self) {
        if self.tty {
            eprintln!();
        }
    }
}

fn minutes(seconds: f64) -> String {
    let seconds = seconds.round() as u64;
    if seconds >= 60 {
        format!("{} 分 {} 秒", seconds / 60, seconds % 60)
    } else {
        format!("{seconds} 秒")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(names: &[&str]) -> Vec<Entry> {
        names
            .iter()
            .map(|n| Entry {
                name: (*n).to_owned(),
                path: PathBuf::from(n),
                kind: intake::Kind::Folder,
            })
            .collect()
    }

    #[test]
    fn shards_cover_the_class_exactly_once_and_evenly() {
        let names: Vec<String> = (0..23).map(|i| format!("s{i:02}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut seen = Vec::new();
        for k in 1..=5 {
            let part = shard(entries(&names), Some((k, 5)));
            assert!((4..=5).contains(&part.len()));
            seen.extend(part.into_iter().map(|e| e.name));
        }
        seen.sort();
        assert_eq!(seen, names);
    }

    #[test]
    fn shard_values_are_checked() {
        assert_eq!(parse_shard("2/10"), Ok((2, 10)));
        for bad in ["0/3", "4/3", "x", "1/0", "1-2"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
