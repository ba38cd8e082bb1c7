//! 沙箱里的评分器(`course grade __inside`):和学员的程序同在一个沙箱里,用回环和它说话。
//!
//! 它逐课调用评分框架(`harness::run_with`,每一项都跑),每评完一课打印一行 JSON
//! (`Report::to_json`),最后一行是沙箱在这份提交上看到的「事件」:
//!
//! - 进程和线程加起来碰到了上限(线程炸弹、fork 炸弹);
//! - 写出了碰到大小上限的文件(写满磁盘);
//! - 评分结束后还有进程活着(忽略 SIGTERM、脱离了进程组);
//! - 读了 `~/.ssh` 里的私钥:沙箱里的家目录是空的,只放了一把诱饵私钥;
//! - 连了老师机器上的本地服务:沙箱的网络里,在老师机器上有服务监听的那些端口上放了诱饵。
//!
//! 每一行都以 course 从 stdin 交给它的一次性口令开头:学员的程序即使往评分器的 stdout
//! 里写东西,也伪造不出成绩。

use std::collections::BTreeSet;
use std::io::{BufRead as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

/// 标记沙箱里的进程的环境变量(没有进程命名空间时,靠它找出评分后还活着的进程)。
pub const MARKER: &str = "COURSE_SANDBOX_JOB";

#[derive(clap::Args, Debug, Clone)]
pub struct InsideArgs {
    /// 编译好的程序所在的目录(lesson-NN)
    #[arg(long)]
    pub bin: PathBuf,
    /// 可写的工作目录(HOME 和程序的当前目录在里面)
    #[arg(long)]
    pub work: PathBuf,
    /// 要评的课,逗号分隔
    #[arg(long, value_delimiter = ',')]
    pub lessons: Vec<String>,
    /// 老师机器上在回环上监听的端口:沙箱里在同样的端口上放诱饵
    #[arg(long, value_delimiter = ',')]
    pub decoys: Vec<u16>,
    /// 有进程命名空间和网络命名空间
    #[arg(long)]
    pub isolated: bool,
    /// 进程数上限(到了就记一个事件)
    #[arg(long)]
    pub processes: u64,
    /// 单个文件的大小上限
    #[arg(long)]
    pub file_size: u64,
    /// 这次评分的标记(没有进程命名空间时用来找残留的进程)
    #[arg(long)]
    pub marker: String,
}

impl InsideArgs {
    pub(super) fn to_args(&self) -> Vec<String> {
        let join = |items: Vec<String>| items.join(",");
        let mut args = vec![
            "grade".to_owned(),
            "__inside".to_owned(),
            format!("--bin={}", self.bin.display()),
            format!("--work={}", self.work.display()),
            format!("--lessons={}", self.lessons.join(",")),
            format!("--processes={}", self.processes),
            format!("--file-size={}", self.file_size),
            format!("--marker={}", self.marker),
        ];
        if !self.decoys.is_empty() {
            args.push(format!(
                "--decoys={}",
                join(self.decoys.iter().map(u16::to_string).collect())
            ));
        }
        if self.isolated {
            args.push("--isolated".to_owned());
        }
        args
    }
}

/// 沙箱里看到的事件,去重、排好序。
type Events = Arc<Mutex<BTreeSet<String>>>;

fn note(events: &Events, event: String) {
    events
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(event);
}

pub fn run(args: &InsideArgs) -> Result<ExitCode> {
    // 一次性口令:course 从 stdin 交过来,学员的程序(stdin 是空的)拿不到。
    let mut nonce = String::new();
    std::io::stdin().lock().read_line(&mut nonce)?;
    let nonce = nonce.trim().to_owned();

    let home = args.work.join("home");
    let cwd = args.work.join("cwd");
    std::fs::create_dir_all(&home)?;
    std::fs::create_dir_all(&cwd)?;
    // 学员的程序继承评分器的当前目录:让它落在可写的临时目录里。
    std::env::set_current_dir(&cwd)?;
    let decoy = Decoy::plant(&home)?;

    let events: Events = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let watcher = {
        let (done, peak, args) = (Arc::clone(&done), Arc::clone(&peak), args.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(count_tasks(&args), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    if args.isolated {
        for &port in &args.decoys {
            open_decoy(port, &events);
        }
    }

    let mut out = std::io::stdout().lock();
    for number in &args.lessons {
        let lesson = harness::lesson(number).with_context(|| format!("没有第 {number} 课"))?;
        let package = format!("lesson-{}", lesson.number);
        let exe = args
            .bin
            .join(format!("{package}{}", std::env::consts::EXE_SUFFIX));
        let report = harness::run_with(lesson, &exe, &package, true);
        if report
            .steps
            .iter()
            .filter_map(|s| s.message.as_deref())
            .any(|m| m.contains(&decoy.token))
        {
            note(
                &events,
                "把 ~/.ssh 里的私钥打印了出来(沙箱里那把是诱饵,你的私钥它看不见)".to_owned(),
            );
        }
        writeln!(out, "{nonce} {}", report.to_json())?;
        out.flush()?;
        sweep(args, &events);
    }

    done.store(true, Ordering::Relaxed);
    let _ = watcher.join();
    let peak = peak.load(Ordering::Relaxed);
    if peak + 16 >= args.processes {
        note(
            &events,
            format!(
                "进程和线程加起来碰到了上限({} 个;线程炸弹或 fork 炸弹)",
                args.processes
            ),
        );
    }
    if decoy.was_read() {
        note(
            &events,
            "读了 ~/.ssh 里的私钥(沙箱里那把是诱饵,你的私钥它看不见)".to_owned(),
        );
    }
    let events: Vec<serde_json::Value> = events
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|e| serde_json::Value::from(e.as_str()))
        .collect();
    let summary = serde_json::json!({"events": events, "peak_tasks": peak});
    writeln!(out, "{nonce} {summary}")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// 一把诱饵私钥:内容里有一个随机记号,访问时间早于修改时间(这样一读,访问时间就会更新)。
struct Decoy {
    path: PathBuf,
    token: String,
    accessed: Option<SystemTime>,
}

impl Decoy {
    fn plant(home: &Path) -> Result<Decoy> {
        let stamp = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let token = format!("COURSE-DECOY-{:x}-{stamp:x}", std::process::id());
        let dir = home.join(".ssh");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("id_ed25519");
        std::fs::write(
            &path,
            format!(
                "-----BEGIN OPENSSH PRIVATE KEY-----\n{token}\n-----END OPENSSH PRIVATE KEY-----\n"
            ),
        )?;
        let day = Duration::from_secs(86_400);
        let now = SystemTime::now();
        let times = std::fs::FileTimes::new()
            .set_accessed(now - 2 * day)
            .set_modified(now - day);
        std::fs::File::options()
            .write(true)
            .open(&path)?
            .set_times(times)?;
        let accessed = std::fs::metadata(&path)?.accessed().ok();
        Ok(Decoy {
            path,
            token,
            accessed,
        })
    }

    /// 访问时间变了:有人读过它。(挂载选项是 noatime 时看不出来,那就只能靠打印出来的内容。)
    fn was_read(&self) -> bool {
        let now = std::fs::metadata(&self.path)
            .and_then(|m| m.accessed())
            .ok();
        match (self.accessed, now) {
            (Some(before), Some(now)) => now > before,
            _ => false,
        }
    }
}

/// 在沙箱的回环上,老师机器上有服务的端口,放一个诱饵:谁连上来就记一笔。
fn open_decoy(port: u16, events: &Events) {
    for addr in [format!("127.0.0.1:{port}"), format!("[::1]:{port}")] {
        let Ok(listener) = TcpListener::bind(&addr) else {
            continue;
        };
        let events = Arc::clone(events);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stream.is_ok() {
                    note(
                        &events,
                        format!(
                            "连了 {addr}:在你的机器上,这个端口上有一个本地服务(沙箱里连到的只是诱饵)"
                        ),
                    );
                }
            }
        });
    }
}

/// 评分器结束了它启动的程序以后,还活着的进程:找出来、记下、结束掉;再看有没有写满上限的文件。
fn sweep(args: &InsideArgs, events: &Events) {
    let me = std::process::id();
    let leftovers: Vec<(u32, String)> = processes(args)
        .into_iter()
        .filter(|&pid| pid != me && pid != 1)
        .map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            (pid, cmdline.trim().chars().take(80).collect())
        })
        .collect();
    if !leftovers.is_empty() {
        let pids: Vec<String> = leftovers.iter().map(|(pid, _)| pid.to_string()).collect();
        let _ = Command::new("sh")
            .args(["-c", "kill -KILL \"$@\" 2>/dev/null", "sh"])
            .args(&pids)
            .status();
        let names: BTreeSet<&str> = leftovers
            .iter()
            .map(|(_, c)| c.split(' ').next().unwrap_or(""))
            .map(|c| c.rsplit('/').next().unwrap_or(c))
            .collect();
        note(
            events,
            format!(
                "评分器结束程序以后还有进程活着({}),沙箱把它们结束了",
                names.into_iter().collect::<Vec<_>>().join("、")
            ),
        );
    }
    for dir in [args.work.clone(), std::env::temp_dir()] {
        for (path, len) in big_files(&dir, args.file_size.saturating_sub(1 << 20), 3) {
            let _ = std::fs::remove_file(&path);
            note(
                events,
                format!(
                    "写了一个 {} MiB 的文件,碰到了单个文件的大小上限({} MiB)",
                    len >> 20,
                    args.file_size >> 20
                ),
            );
        }
    }
}

/// 沙箱里的进程:有进程命名空间时是 /proc 里的全部;否则是带着这次评分标记的那些。
fn processes(args: &InsideArgs) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let marker = format!("{MARKER}={}", args.marker);
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|pid| {
            args.isolated
                || std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.split(|&b| b == 0).any(|v| v == marker.as_bytes()))
        })
        .collect()
}

/// 沙箱里的线程总数(进程数上限数的就是它)。
fn count_tasks(args: &InsideArgs) -> u64 {
    processes(args)
        .into_iter()
        .map(|pid| std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |t| t.count() as u64))
        .sum()
}

/// `dir` 下(最多 `depth` 层)不小于 `at_least` 字节的文件。
fn big_files(dir: &Path, at_least: u64, depth: usize) -> Vec<(PathBuf, u64)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten().take(10_000) {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && depth > 0 {
            found.extend(big_files(&entry.path(), at_least, depth - 1));
        } else if kind.is_file() {
            let len = entry.metadata().map_or(0, |m| m.len());
            if len >= at_least {
                found.push((entry.path(), len));
            }
        }
    }
    found
}
