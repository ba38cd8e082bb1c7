//! 沙箱:学员的代码在老师的机器上编译、运行,每一步都关在里面。
//!
//! 两层:
//!
//! - **资源上限**(任何 Unix):CPU 秒数、地址空间、进程/线程数、打开的文件数、文件大小,
//!   不生成 core 文件。由 `course grade __limit` 设好上限再 exec 真正的命令,上限随之
//!   传给所有子进程。
//! - **隔离**(Linux,装了 bubblewrap 时):每份提交一组新的命名空间。网络命名空间里只有
//!   回环网卡(bubblewrap 会把它打开),评分器和学员的程序在里面用回环说话,碰不到老师机器上
//!   的任何服务;进程命名空间让评分结束时一个进程也留不下;文件系统只读,只看得见系统的
//!   `/usr`、工具链和这份提交自己的目录,老师的家目录、`/etc`、别的学员都看不见;可写的只有
//!   一块有大小上限的内存盘。
//!
//! 编译和运行是两个沙箱:编译时可写的是这份提交的 target 目录,运行时那里也是只读的。
//! 以 root 运行时,进程数上限对 root 不起作用,所以运行阶段在沙箱里换成一个临时的普通用户。
//!
//! 没有 bubblewrap(或者它在这台机器上用不了)时,只有资源上限,输出里会明说沙箱不完整。

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::inside::{InsideArgs, MARKER};
use super::limit::{BUILD_LIMITS, Limits, RUN_LIMITS};

/// 运行阶段可写的内存盘挂在这里:HOME、TMPDIR 和程序的当前目录都在里面。
const RUN_DIR: &str = "/sandbox";
/// 运行阶段,编译好的程序挂在这里,只读。
const BIN_DIR: &str = "/grade/bin";
/// 运行阶段,course 自己挂在这里,只读。
const COURSE_IN_SANDBOX: &str = "/grade/course";

/// 运行阶段内存盘的大小:HOME、当前目录和 /tmp 各一块。
const RUN_DISK: u64 = 256 << 20;
const TMP_DISK: u64 = 64 << 20;

/// 这台机器上能做到的隔离。
#[derive(Clone, Debug)]
pub enum Isolation {
    /// bubblewrap 能用。`as_root`:以 root 运行(不建用户命名空间,运行阶段换成普通用户)。
    Bwrap { bwrap: PathBuf, as_root: bool },
    /// 只有资源上限;字符串说明为什么。
    LimitsOnly(String),
    /// 连资源上限也没有(Windows)。
    Nothing,
}

/// 沙箱:怎样在里面编译、怎样在里面评分。
#[derive(Clone, Debug)]
pub struct Sandbox {
    pub isolation: Isolation,
    /// course 程序自己:在沙箱里设资源上限、跑评分器的都是它。
    course: PathBuf,
    toolchain: Toolchain,
}

/// 编译要用到的工具链。
#[derive(Clone, Debug)]
struct Toolchain {
    /// `rustc --print sysroot`:rustc、cargo 和标准库都在这下面(rustup 的代理程序不用)。
    sysroot: PathBuf,
    cargo: PathBuf,
    rustc: PathBuf,
    /// CARGO_HOME 里已经下载好的依赖(只读地给沙箱看)。
    registry: Vec<PathBuf>,
    cargo_home: PathBuf,
}

/// 一份提交在沙箱外的几个目录。
pub struct Paths<'a> {
    /// 换上了学员 src/ 的课程副本。
    pub course: &'a Path,
    /// 它的 target 目录(编译时可写)。
    pub target: &'a Path,
    /// 编译好的程序,运行阶段只读地挂进去。
    pub bin: &'a Path,
}

impl Sandbox {
    /// 看看这台机器能做到什么。`wanted == false`(`--no-sandbox`)时只用资源上限。
    pub fn detect(wanted: bool) -> Result<Sandbox> {
        let course = std::env::current_exe().context("找不到 course 程序自己")?;
        let toolchain = Toolchain::find()?;
        let isolation = if cfg!(not(unix)) {
            Isolation::Nothing
        } else if !wanted {
            Isolation::LimitsOnly("用了 --no-sandbox".to_owned())
        } else if !cfg!(target_os = "linux") {
            Isolation::LimitsOnly("只有 Linux 上有 bubblewrap".to_owned())
        } else {
            probe_bwrap()
        };
        Ok(Sandbox {
            isolation,
            course,
            toolchain,
        })
    }

    pub fn isolated(&self) -> bool {
        matches!(self.isolation, Isolation::Bwrap { .. })
    }

    /// 一行话:沙箱是完整的,还是不完整、缺了什么。
    pub fn describe(&self) -> String {
        match &self.isolation {
            Isolation::Bwrap { .. } => "完整(bubblewrap:只有回环网络、独立的进程、除了自己的临时目录一律只读、看不见家目录;加上资源上限)".to_owned(),
            Isolation::LimitsOnly(why) => format!(
                "不完整,只有资源上限({why})。学员的程序能读你能读的文件、连你机器上的服务;\
                 请装上 bubblewrap(Debian/Ubuntu: sudo apt-get install bubblewrap)"
            ),
            Isolation::Nothing => "没有:这个系统上 course 不会隔离学员的程序,也不限制它的资源。\
                 请在 Linux 上装好 bubblewrap 再给陌生人的代码评分"
                .to_owned(),
        }
    }

    /// 短名字,写进报告。
    pub fn mode(&self) -> &'static str {
        match self.isolation {
            Isolation::Bwrap { .. } => "bubblewrap",
            Isolation::LimitsOnly(_) => "limits-only",
            Isolation::Nothing => "none",
        }
    }

    /// 在沙箱里编译一课:`cargo build -p lesson-NN`,工作目录是课程副本。
    pub fn build(&self, paths: &Paths, package: &str) -> Command {
        let tc = &self.toolchain;
        let cargo_args: Vec<String> = ["build", "--offline", "--frozen", "--quiet", "-p", package]
            .map(str::to_owned)
            .to_vec();
        let env = vec![
            ("PATH", "/usr/local/bin:/usr/bin:/bin".to_owned()),
            ("HOME", "/tmp".to_owned()),
            ("CARGO_HOME", tc.cargo_home.display().to_string()),
            ("RUSTC", tc.rustc.display().to_string()),
            ("CARGO_TARGET_DIR", paths.target.display().to_string()),
            ("CARGO_INCREMENTAL", "0".to_owned()),
            ("CARGO_TERM_COLOR", "never".to_owned()),
        ];
        let inner = limited(&self.course, &BUILD_LIMITS, None, &tc.cargo, &cargo_args);
        match &self.isolation {
            Isolation::Bwrap { bwrap, as_root } => {
                let mut args = namespaces(*as_root, false);
                args.extend(system_view());
                args.extend(["--tmpfs".into(), "/tmp".into()]);
                ro(&mut args, &tc.sysroot);
                for dir in &tc.registry {
                    ro(&mut args, dir);
                }
                ro(&mut args, &self.course);
                ro(&mut args, paths.course);
                args.extend(["--bind".into(), path(paths.target), path(paths.target)]);
                args.extend(["--remount-ro".into(), "/".into(), "--clearenv".into()]);
                for (key, value) in &env {
                    args.extend(["--setenv".into(), (*key).to_owned(), value.clone()]);
                }
                args.extend(["--chdir".into(), path(paths.course)]);
                args.extend(inner);
                let mut command = Command::new(bwrap);
                command.args(args);
                command
            }
            Isolation::LimitsOnly(_) | Isolation::Nothing => {
                let mut command = self.unisolated(inner);
                command.env_clear().current_dir(paths.course);
                for (key, value) in &env {
                    command.env(key, value);
                }
                command.env("HOME", paths.target);
                command
            }
        }
    }

    /// 在沙箱里给编译好的几课评分:评分器(`course grade __inside`)和学员的程序在同一个
    /// 沙箱里,用回环说话。它每评完一课打印一行 JSON,最后一行是沙箱看到的事件。
    pub fn run(&self, paths: &Paths, inside: &InsideArgs, slot: usize) -> Result<Command> {
        let timeout_scale = std::env::var("COURSE_TIMEOUT_SCALE").ok();
        match &self.isolation {
            Isolation::Bwrap { bwrap, as_root } => {
                let mut args = namespaces(*as_root, true);
                args.extend(system_view());
                args.extend([
                    "--perms".into(),
                    "1777".into(),
                    "--size".into(),
                    TMP_DISK.to_string(),
                    "--tmpfs".into(),
                    "/tmp".into(),
                    "--perms".into(),
                    "1777".into(),
                    "--size".into(),
                    RUN_DISK.to_string(),
                    "--tmpfs".into(),
                    RUN_DIR.into(),
                ]);
                args.extend(["--perms", "0755", "--dir", "/grade"].map(str::to_owned));
                args.extend(["--ro-bind".into(), path(paths.bin), BIN_DIR.into()]);
                let course = COURSE_IN_SANDBOX.to_owned();
                args.extend(["--ro-bind".into(), path(&self.course), course.clone()]);
                args.extend(["--remount-ro".into(), "/".into(), "--clearenv".into()]);
                let mut env = vec![
                    ("PATH", "/usr/local/bin:/usr/bin:/bin".to_owned()),
                    ("HOME", format!("{RUN_DIR}/home")),
                    ("TMPDIR", "/tmp".to_owned()),
                    ("LANG", "C.UTF-8".to_owned()),
                ];
                if let Some(scale) = timeout_scale {
                    env.push(("COURSE_TIMEOUT_SCALE", scale));
                }
                for (key, value) in &env {
                    args.extend(["--setenv".into(), (*key).to_owned(), value.clone()]);
                }
                args.extend(["--chdir".into(), "/".into()]);
                let mut inside = inside.clone();
                inside.bin = PathBuf::from(BIN_DIR);
                inside.work = PathBuf::from(RUN_DIR);
                inside.isolated = true;
                // root:进程数上限对 root 不起作用,换成一个只属于这个评分槽位的普通用户。
                let user = as_root.then(|| slot_user(slot));
                args.extend(limited(
                    Path::new(&course),
                    &RUN_LIMITS,
                    user,
                    Path::new(&course),
                    &inside.to_args(),
                ));
                let mut command = Command::new(bwrap);
                command.args(args);
                Ok(command)
            }
            Isolation::LimitsOnly(_) | Isolation::Nothing => {
                let mut inside = inside.clone();
                inside.bin = paths.bin.to_owned();
                inside.isolated = false;
                let home = inside.work.join("home");
                let tmp = inside.work.join("tmp");
                std::fs::create_dir_all(&home)?;
                std::fs::create_dir_all(&tmp)?;
                let inner = limited(
                    &self.course,
                    &RUN_LIMITS,
                    None,
                    &self.course,
                    &inside.to_args(),
                );
                let mut command = self.unisolated(inner);
                command
                    .env_clear()
                    .env("PATH", "/usr/local/bin:/usr/bin:/bin")
                    .env("HOME", &home)
                    .env("TMPDIR", &tmp)
                    .env("LANG", "C.UTF-8")
                    .env(MARKER, &inside.marker)
                    .current_dir(&inside.work);
                if let Some(scale) = timeout_scale {
                    command.env("COURSE_TIMEOUT_SCALE", scale);
                }
                Ok(command)
            }
        }
    }

    /// 没有隔离时的命令:Unix 上仍然经过 `course grade __limit` 设资源上限;
    /// Windows 上直接运行。
    fn unisolated(&self, limited: Vec<String>) -> Command {
        let (program, args) = if cfg!(unix) {
            (self.course.clone(), limited[1..].to_vec())
        } else {
            let at = limited.iter().position(|a| a == "--").map_or(0, |i| i + 1);
            (PathBuf::from(&limited[at]), limited[at + 1..].to_vec())
        };
        let mut command = Command::new(program);
        command.args(args);
        #[cfg(unix)]
        {
            // 自己一个进程组:超时时连同它的子进程一起结束。
            use std::os::unix::process::CommandExt as _;
            command.process_group(0);
        }
        command
    }
}

/// 试一下 bubblewrap 在这台机器上能不能建出沙箱(有的发行版禁止了非特权的用户命名空间)。
fn probe_bwrap() -> Isolation {
    let Some(bwrap) = which("bwrap") else {
        return Isolation::LimitsOnly("没有找到 bubblewrap(bwrap)".to_owned());
    };
    let as_root = is_root();
    let mut args = namespaces(as_root, true);
    args.extend(system_view());
    args.extend(["--remount-ro".into(), "/".into(), "true".into()]);
    match Command::new(&bwrap).args(&args).output() {
        Ok(out) if out.status.success() => Isolation::Bwrap { bwrap, as_root },
        Ok(out) => Isolation::LimitsOnly(format!(
            "bubblewrap 在这台机器上建不出沙箱:{}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(err) => Isolation::LimitsOnly(format!("无法运行 bubblewrap:{err}")),
    }
}

/// 新的命名空间。非 root 时连用户命名空间一起建(进程数只数沙箱里的);
/// root 时不建用户命名空间,而是保留换用户所需的两个能力。
fn namespaces(as_root: bool, switch_user: bool) -> Vec<String> {
    let mut args: Vec<String> = if as_root {
        [
            "--unshare-net",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
        ]
        .map(str::to_owned)
        .to_vec()
    } else {
        vec!["--unshare-all".to_owned()]
    };
    if as_root && switch_user {
        args.extend(["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"].map(str::to_owned));
    }
    args.extend(
        [
            "--die-with-parent",
            "--new-session",
            "--hostname",
            "sandbox",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
        ]
        .map(str::to_owned),
    );
    args
}

/// 系统的程序和库(只读);`/etc` 里只给动态链接器和 cc 要用的两样。
fn system_view() -> Vec<String> {
    let mut args = vec!["--ro-bind".to_owned(), "/usr".to_owned(), "/usr".to_owned()];
    for dir in ["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"] {
        let path = Path::new(dir);
        match std::fs::read_link(path) {
            Ok(target) => args.extend(["--symlink".into(), path_str(&target), dir.to_owned()]),
            Err(_) if path.is_dir() => args.extend(["--ro-bind".into(), dir.into(), dir.into()]),
            Err(_) => {}
        }
    }
    // bubblewrap 自己建的目录是 0700:运行阶段换了用户以后就进不去了,所以明确给 0755。
    args.extend(["--perms", "0755", "--dir", "/etc"].map(str::to_owned));
    for file in ["/etc/ld.so.cache", "/etc/alternatives"] {
        args.extend(["--ro-bind-try".into(), file.into(), file.into()]);
    }
    args
}

fn ro(args: &mut Vec<String>, dir: &Path) {
    args.extend(["--ro-bind".into(), path(dir), path(dir)]);
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `course grade __limit 上限… -- 程序 参数…` 的完整命令行(第一个元素是 course 自己)。
fn limited(
    course: &Path,
    limits: &Limits,
    user: Option<u32>,
    program: &Path,
    args: &[String],
) -> Vec<String> {
    let mut out = vec![
        path(course),
        "grade".to_owned(),
        "__limit".to_owned(),
        format!("--cpu={}", limits.cpu_seconds),
        format!("--address-space={}", limits.address_space),
        format!("--processes={}", limits.processes),
        format!("--open-files={}", limits.open_files),
        format!("--file-size={}", limits.file_size),
    ];
    if let Some(uid) = user {
        out.push(format!("--user={uid}"));
    }
    out.push("--".to_owned());
    out.push(path(program));
    out.extend(args.iter().cloned());
    out
}

/// 以 root 评分时,第 `slot` 个并行的评分用的用户号:不在 /etc/passwd 里,
/// 每个 course 进程、每个槽位各不相同,所以进程数上限各算各的。
fn slot_user(slot: usize) -> u32 {
    2_000_000 + (std::process::id() % 100_000) * 64 + (slot as u32 % 64)
}

fn is_root() -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        // /proc/self 的属主就是这个进程的有效用户。
        std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// 在 PATH 里找一个程序。
pub fn which(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

impl Toolchain {
    fn find() -> Result<Toolchain> {
        let rustc_on_path = std::env::var_os("RUSTC").map_or_else(|| "rustc".into(), PathBuf::from);
        let out = Command::new(&rustc_on_path)
            .args(["--print", "sysroot"])
            .output()
            .context("无法运行 rustc")?;
        if !out.status.success() {
            bail!("rustc --print sysroot 失败");
        }
        let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        let exe = std::env::consts::EXE_SUFFIX;
        let rustc = sysroot.join("bin").join(format!("rustc{exe}"));
        let mut cargo = sysroot.join("bin").join(format!("cargo{exe}"));
        if !cargo.is_file() {
            cargo = crate::repo::cargo();
        }
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .unwrap_or_else(|| PathBuf::from(".cargo"));
        let registry = ["registry", "git"]
            .iter()
            .map(|d| cargo_home.join(d))
            .filter(|d| d.is_dir())
            .collect();
        Ok(Toolchain {
            sysroot,
            cargo,
            rustc,
            registry,
            cargo_home,
        })
    }
}

/// 老师机器上在回环(或所有地址)上监听的 TCP 端口,从 /proc/net/tcp{,6} 读出来。
/// 沙箱里在这些端口上放诱饵:学员的程序连上来,就说明它想碰老师的本地服务。
pub fn listening_ports() -> Vec<u16> {
    let mut ports = BTreeSet::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local_address 是「十六进制地址:十六进制端口」;状态 0A 是 LISTEN。
            let (Some(local), Some(&"0A")) = (fields.get(1), fields.get(3)) else {
                continue;
            };
            let Some((addr, port)) = local.split_once(':') else {
                continue;
            };
            let loopback_or_any = matches!(
                addr,
                "0100007F" | "00000000" | "00000000000000000000000000000000"
            ) || addr == "00000000000000000000000001000000";
            if let (true, Ok(port)) = (loopback_or_any, u16::from_str_radix(port, 16))
                && port >= 1024
            {
                ports.insert(port);
            }
        }
    }
    ports.into_iter().take(200).collect()
}
