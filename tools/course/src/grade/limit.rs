//! 资源上限:`course grade __limit 上限… -- 程序 参数…` 给自己设好上限,再把自己换成那个程序,
//! 上限就传给了它和它所有的子进程。沙箱里的编译和评分都从这里开始。

use std::process::Command;

use anyhow::{Context, Result, bail};

/// 一组资源上限。
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// 每个进程的 CPU 秒数。
    pub cpu_seconds: u64,
    /// 每个进程的地址空间(字节)。
    pub address_space: u64,
    /// 同一用户的进程和线程总数(在 bubblewrap 的用户命名空间里,只数这个沙箱里的)。
    pub processes: u64,
    pub open_files: u64,
    /// 单个文件的大小(字节)。
    pub file_size: u64,
}

/// 编译:rustc 要不少内存,文件也大(调试信息)。
pub const BUILD_LIMITS: Limits = Limits {
    cpu_seconds: 300,
    address_space: 8 << 30,
    processes: 512,
    open_files: 4096,
    file_size: 1 << 30,
};

/// 运行学员的程序(以及和它同在沙箱里的评分器)。
pub const RUN_LIMITS: Limits = Limits {
    cpu_seconds: 300,
    address_space: 4 << 30,
    processes: 256,
    open_files: 1024,
    file_size: 64 << 20,
};

#[derive(clap::Args, Debug)]
pub struct LimitArgs {
    #[arg(long)]
    cpu: u64,
    #[arg(long)]
    address_space: u64,
    #[arg(long)]
    processes: u64,
    #[arg(long)]
    open_files: u64,
    #[arg(long)]
    file_size: u64,
    /// 换成这个用户(和同号的组)再运行;只在以 root 运行的沙箱里用。
    #[arg(long)]
    user: Option<u32>,
    /// 要运行的程序和它的参数
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// 给自己设好资源上限,然后把自己换成要运行的程序(上限会传给它的所有子进程)。
#[cfg(unix)]
pub fn limit(args: &LimitArgs) -> Result<std::process::ExitCode> {
    use rlimit::Resource;
    use std::os::unix::process::CommandExt as _;
    let set = |resource: Resource, value: u64, what: &str| -> Result<()> {
        resource
            .set(value, value)
            .with_context(|| format!("无法设置{what}上限"))
    };
    set(Resource::CPU, args.cpu, "CPU 时间")?;
    set(Resource::AS, args.address_space, "地址空间")?;
    set(Resource::NOFILE, args.open_files, "打开文件数")?;
    set(Resource::FSIZE, args.file_size, "文件大小")?;
    set(Resource::CORE, 0, "core 文件")?;
    // 进程数:在用户命名空间里只数这个沙箱;没有隔离时数的是你这个用户的全部进程,
    // 所以在已有的数目上再加这么多。
    let processes = if args.user.is_none() && !in_own_user_namespace() {
        own_task_count().unwrap_or(0) + args.processes
    } else {
        args.processes
    };
    set(Resource::NPROC, processes, "进程数")?;
    let mut command = Command::new(&args.command[0]);
    command.args(&args.command[1..]);
    if let Some(uid) = args.user {
        command.uid(uid).gid(uid);
    }
    let err = command.exec();
    bail!("无法运行 {}: {err}", args.command[0])
}

#[cfg(not(unix))]
pub fn limit(args: &LimitArgs) -> Result<std::process::ExitCode> {
    let status = Command::new(&args.command[0])
        .args(&args.command[1..])
        .status()?;
    Ok(if status.success() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

/// 是否在 bubblewrap 建的用户命名空间里(映射不是「全部 uid 对全部 uid」)。
#[cfg(unix)]
fn in_own_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map").is_ok_and(|map| {
        let fields: Vec<&str> = map.split_whitespace().collect();
        fields != ["0", "0", "4294967295"]
    })
}

/// 这个用户现在有多少个线程(进程数上限数的就是它们)。只在 Linux 上数得出来。
#[cfg(unix)]
fn own_task_count() -> Option<u64> {
    use std::os::unix::fs::MetadataExt as _;
    let me = std::fs::metadata("/proc/self").ok()?.uid();
    let mut count = 0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let is_pid = entry.file_name().to_string_lossy().parse::<u32>().is_ok();
        if is_pid && entry.metadata().is_ok_and(|m| m.uid() == me) {
            count += std::fs::read_dir(entry.path().join("task")).map_or(1, |t| t.count() as u64);
        }
    }
    Some(count)
}
