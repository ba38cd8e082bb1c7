//! 负载工具:测一测参考答案的服务器能撑住多少请求。
//!
//! 它是一个普通的程序,不是测试:速度的数字要能重跑、能比较,而不是藏在一个会因为机器忙
//! 就失败的「计时测试」里。所有流量只发往本机回环地址,每一轮都有次数和时间的上限,跑完就停。
//!
//! ```text
//! cargo build --release -p solution-03 -p load
//! target/release/load udp --server target/release/solution-03 --clients 1,4,16 --seconds 5
//! ```
//!
//! `--server` 给的程序会用 `--port 0` 启动(和评分器一样读它第一行打印的地址),测完就结束它;
//! 也可以用 `--addr` 指向一个已经在运行的服务器。
//!
//! 聊天室(第 6 课):
//!
//! ```text
//! cargo build --release -p solution-06 -p load
//! target/release/load chat --server target/release/solution-06 --clients 10,100,1000
//! target/release/load chat-soak --server target/release/solution-06 --cycles 1000
//! ```
//!
//! 和 Python 教程的设计比一比(同一次运行,每一档先测一个,再测另一个):
//!
//! ```text
//! target/release/load chat --server target/release/solution-06 \
//!     --compare tools/interop/seed_chat.py --compare-args --nick \
//!     --clients 10,100,1000,2000 --rate 100 --server-args "--max-clients 5000"
//! ```

mod chat;

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::{Parser, Subcommand};
use clap_zh::say;
use harness::program::Program;
use harness::text::find_socket_addr;

/// 给参考答案的服务器施加负载并测量。只连本机回环地址。
#[derive(Parser)]
#[command(
    disable_help_flag = true,
    disable_help_subcommand = true,
    help_template = "{about}\n\n用法: {bin} <命令> [选项]\n\n命令:\n{subcommands}\n\n选项:\n{options}"
)]
struct Args {
    #[command(subcommand)]
    command: Command,

    /// 显示帮助
    #[arg(short, long, action = clap::ArgAction::Help, global = true)]
    help: Option<bool>,
}

/// 子命令的帮助格式(clap 默认的是英文)。
const SUBCOMMAND_HELP: &str = "{about}\n\n选项:\n{options}";

#[derive(Subcommand)]
enum Command {
    /// UDP 回声服务器(第 3 课):许多客户端同时「发一个、等回声」,测每秒往返次数和延迟
    #[command(help_template = SUBCOMMAND_HELP)]
    Udp(UdpArgs),
    /// 聊天室服务器(第 6 课):N 个人同时在线、轮流说话,测送达速率和广播延迟
    #[command(help_template = SUBCOMMAND_HELP)]
    Chat(ChatArgs),
    /// 聊天室服务器(第 6 课)的耐久测试:成百上千次进出、坏输入和一个不读消息的人,前后对比服务器的文件描述符、线程和内存
    #[command(help_template = SUBCOMMAND_HELP)]
    ChatSoak(SoakArgs),
}

#[derive(clap::Args)]
struct ChatArgs {
    /// 要启动的聊天室程序(用 `server --port 0` 启动,测完结束它)
    #[arg(long, conflicts_with = "addr")]
    server: Option<PathBuf>,

    /// 已经在运行的聊天室地址(只能是本机回环地址)
    #[arg(long)]
    addr: Option<SocketAddr>,

    /// 另一个聊天室程序(比如 tools/interop/seed_chat.py,以 .py 结尾的用 python3 运行):
    /// 每一档都把两个服务器各测一遍,最后一行是两者之比
    #[arg(long, requires = "server")]
    compare: Option<PathBuf>,

    /// 启动 --server 时多加的参数(用空格分开,放在 `server` 子命令后面),比如 "--max-clients 5000"
    #[arg(
        long,
        default_value = "",
        hide_default_value = true,
        allow_hyphen_values = true
    )]
    server_args: String,

    /// 启动 --compare 的程序时给的参数(用空格分开,放在 `--port 0` 前面)。
    /// tools/interop/seed_chat.py 要 "--nick" 才说第 6 课的协议
    #[arg(
        long,
        default_value = "",
        hide_default_value = true,
        allow_hyphen_values = true,
        requires = "compare"
    )]
    compare_args: String,

    /// 同时在线的人数;逗号分隔可以测好几档,比如 10,100,1000。
    /// 最后两列是所有人进门以后服务器进程的线程数和常驻内存(用 --server 启动时才有)
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "10,100,1000",
        hide_default_value = true
    )]
    clients: Vec<usize>,

    /// 整个聊天室每秒一共说多少句(大家轮流说)
    #[arg(long, default_value_t = 100, hide_default_value = true)]
    rate: u32,

    /// 每一档测多少秒(1 到 60)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=60), hide_default_value = true)]
    seconds: u64,

    /// 每句话大约多少字节(不超过 1000)
    #[arg(long, default_value_t = 64, hide_default_value = true)]
    size: usize,

    /// 把服务器固定在 CPU 0、负载工具固定在 CPU 1(Linux,用 taskset):两边不再抢同一个核,
    /// 量出来的是服务器自己一个核能做到的延迟(要 --server,机器至少有 2 个核)
    #[arg(long, requires = "server")]
    pin: bool,
}

#[derive(clap::Args)]
struct SoakArgs {
    /// 要启动的聊天室程序(用 `server --port 0` 启动,测完结束它)
    #[arg(long)]
    server: PathBuf,

    /// 进出多少次
    #[arg(long, default_value_t = 1000, hide_default_value = true)]
    cycles: usize,
}

#[derive(clap::Args)]
struct UdpArgs {
    /// 要启动的服务器程序(用 --port 0 启动,测完结束它)
    #[arg(long, conflicts_with = "addr")]
    server: Option<PathBuf>,

    /// 已经在运行的服务器地址(只能是本机回环地址)
    #[arg(long)]
    addr: Option<SocketAddr>,

    /// 同时运行的客户端数;逗号分隔可以测好几档,比如 1,4,16
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1,4,16",
        hide_default_value = true
    )]
    clients: Vec<usize>,

    /// 每一档测多少秒(1 到 60)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=60), hide_default_value = true)]
    seconds: u64,

    /// 每个数据报多少字节
    #[arg(long, default_value_t = 64, hide_default_value = true)]
    size: usize,
}

fn main() -> ExitCode {
    let args: Args = clap_zh::parse();
    let result = match args.command {
        Command::Udp(udp) => run_udp(&udp),
        Command::Chat(args) => run_chat(&args),
        Command::ChatSoak(args) => run_soak(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("错误: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_udp(args: &UdpArgs) -> Result<()> {
    ensure!(
        (1..=65_507).contains(&args.size),
        "--size 要在 1 到 65507 之间"
    );
    ensure!(
        args.clients.iter().all(|&n| (1..=1024).contains(&n)),
        "--clients 每一档要在 1 到 1024 之间"
    );
    // 服务器要一直活到测完:Program 被 drop 时会结束它。
    let (_server, addr) = match (&args.server, args.addr) {
        (Some(path), _) => {
            let (program, addr) = start_server(path, &[], false)?;
            (Some(program), addr)
        }
        (None, Some(addr)) => (None, addr),
        (None, None) => {
            bail!("用 --server 给出要启动的服务器程序,或者用 --addr 给出已经在运行的服务器")
        }
    };
    ensure!(
        addr.ip().is_loopback(),
        "只对本机回环地址施加负载,{addr} 不是"
    );

    say!(
        "UDP 回声 {addr},每个数据报 {} 字节,每档 {} 秒",
        args.size,
        args.seconds
    );
    // 表头直接写成对齐好的文字:一个汉字占两列,用 {:>N} 对不齐。
    say!("   客户端        往返/秒       丢失        p50        p99       最慢");
    for &clients in &args.clients {
        let round = udp_round(addr, clients, args.size, Duration::from_secs(args.seconds))?;
        say!(
            "{:>9} {:>14.0} {:>10} {:>10} {:>10} {:>10}",
            clients,
            round.replies as f64 / round.elapsed.as_secs_f64(),
            round.lost,
            show(percentile(&round.latencies, 0.50)),
            show(percentile(&round.latencies, 0.99)),
            show(round.latencies.last().copied()),
        );
        ensure!(
            round.wrong == 0,
            "有 {} 个回复和发出去的不一样",
            round.wrong
        );
    }
    Ok(())
}

fn run_chat(args: &ChatArgs) -> Result<()> {
    ensure!(
        args.size <= 1000,
        "--size 不能超过 1000(聊天室一行最多 1024 字节)"
    );
    ensure!(
        args.clients.iter().all(|&n| (2..=5000).contains(&n)),
        "--clients 每一档要在 2 到 5000 之间"
    );
    ensure!(args.rate >= 1, "--rate 至少是 1");
    if args.pin {
        pin_myself()?;
    }
    // 每一档都用一个新启动的服务器,上一档留下的东西不会影响下一档。
    say!(
        "聊天室,每秒一共说 {} 句,每句约 {} 字节,每档 {} 秒",
        args.rate,
        args.size,
        args.seconds
    );
    chat::print_header();
    // 参考答案用 `server` 子命令启动;比较的那个程序的参数全由 --compare-args 给出。
    let mut ours_args = vec!["server"];
    ours_args.extend(args.server_args.split_whitespace());
    let theirs_args: Vec<&str> = args.compare_args.split_whitespace().collect();
    for &clients in &args.clients {
        let ours = match (&args.server, args.addr) {
            (Some(path), _) => measure(args, clients, path, &ours_args)?,
            (None, Some(addr)) => {
                ensure!(
                    addr.ip().is_loopback(),
                    "只对本机回环地址施加负载,{addr} 不是"
                );
                let round = chat::chat_round(
                    addr,
                    clients,
                    args.rate,
                    args.size,
                    Duration::from_secs(args.seconds),
                    None,
                )?;
                chat::print_round("", &round);
                round
            }
            (None, None) => {
                bail!("用 --server 给出聊天室程序,或者用 --addr 给出已经在运行的聊天室")
            }
        };
        if let Some(other) = &args.compare {
            let theirs = measure(args, clients, other, &theirs_args)?;
            chat::print_ratio(&ours, &theirs);
        }
    }
    Ok(())
}

/// 启动 `path`(`leading` 是放在 `--port 0` 前面的参数),测一档,打印一行,结束它。
fn measure(
    args: &ChatArgs,
    clients: usize,
    path: &Path,
    leading: &[&str],
) -> Result<chat::ChatRound> {
    let (program, addr) = start_server(path, leading, args.pin)?;
    let round = chat::chat_round(
        addr,
        clients,
        args.rate,
        args.size,
        Duration::from_secs(args.seconds),
        Some(program.id()),
    )?;
    let label = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    chat::print_round(&label, &round);
    Ok(round)
}

fn run_soak(args: &SoakArgs) -> Result<()> {
    let (server, addr) = start_server(&args.server, &["server"], false)?;
    chat::soak(addr, args.cycles, server.id())
}

/// 启动服务器(`leading` 是放在 `--port 0` 前面的子命令),读出它第一行打印的地址。
/// 以 `.py` 结尾的程序用 python3 运行。`pinned` 时经 `taskset -c 0` 启动:taskset 设好
/// CPU 再 exec 这个程序,进程号不变,/proc 里的统计照样是服务器自己的。
fn start_server(path: &Path, leading: &[&str], pinned: bool) -> Result<(Program, SocketAddr)> {
    let script = path.to_string_lossy().into_owned();
    let mut args: Vec<&str> = Vec::new();
    if pinned {
        args.extend(["-c", SERVER_CPU]);
    }
    if script.ends_with(".py") {
        if pinned {
            args.push("python3");
        }
        args.push(&script);
    } else if pinned {
        args.push(&script);
    }
    args.extend_from_slice(leading);
    args.extend(["--port", "0"]);
    let program = match (pinned, script.ends_with(".py")) {
        (true, _) => Program::spawn(Path::new("taskset"), &args),
        (false, true) => Program::spawn(Path::new("python3"), &args),
        (false, false) => Program::spawn(path, &args),
    }
    .with_context(|| format!("无法启动 {}", path.display()))?;
    let line = program
        .first_line(Instant::now() + Duration::from_secs(10))
        .map_err(|err| anyhow::anyhow!("服务器没有打印地址({err:?})"))?;
    let addr =
        find_socket_addr(&line).with_context(|| format!("服务器的第一行里没有地址: {line}"))?;
    Ok((program, addr))
}

/// 一档负载的结果。
struct Round {
    replies: u64,
    lost: u64,
    wrong: u64,
    elapsed: Duration,
    /// 每一次往返的耗时,从小到大排好。
    latencies: Vec<Duration>,
}

/// `clients` 个线程各用自己的套接字,在 `length` 时间里不停地「发一个、等回声」。
fn udp_round(addr: SocketAddr, clients: usize, size: usize, length: Duration) -> Result<Round> {
    let started = Instant::now();
    let deadline = started + length;
    let workers: Vec<_> = (0..clients)
        .map(|id| thread::spawn(move || udp_client(addr, id, size, deadline)))
        .collect();
    let mut round = Round {
        replies: 0,
        lost: 0,
        wrong: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for worker in workers {
        let part = worker
            .join()
            .map_err(|_| anyhow::anyhow!("一个客户端线程 panic 了"))??;
        round.replies += part.replies;
        round.lost += part.lost;
        round.wrong += part.wrong;
        round.latencies.extend(part.latencies);
    }
    round.elapsed = started.elapsed();
    round.latencies.sort_unstable();
    Ok(round)
}

fn udp_client(addr: SocketAddr, id: usize, size: usize, deadline: Instant) -> Result<Round> {
    let socket = UdpSocket::bind("127.0.0.1:0").context("无法绑定客户端套接字")?;
    // UDP 会丢包:等一个回复最多 1 秒,等不到就记为丢失,接着发下一个。
    socket.set_read_timeout(Some(Duration::from_secs(1)))?;
    let mut part = Round {
        replies: 0,
        lost: 0,
        wrong: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    let mut payload = vec![b'x'; size];
    let mut buf = vec![0u8; 65_536];
    let mut sequence: u64 = 0;
    while Instant::now() < deadline {
        sequence += 1;
        // 每个数据报带上客户端编号和序号:迟到的旧回复认得出来,不会被算成新的。
        let tag = format!("{id}:{sequence}:");
        let n = tag.len().min(size);
        payload[..n].copy_from_slice(&tag.as_bytes()[..n]);
        let sent = Instant::now();
        socket.send_to(&payload, addr)?;
        loop {
            match socket.recv_from(&mut buf) {
                Ok((len, _)) if buf[..len] == payload[..] => {
                    part.replies += 1;
                    part.latencies.push(sent.elapsed());
                    break;
                }
                Ok((len, _)) if buf[..n.min(len)] != tag.as_bytes()[..n] => continue, // 迟到的旧回复
                Ok(_) => {
                    part.wrong += 1;
                    break;
                }
                Err(_) => {
                    part.lost += 1;
                    break;
                }
            }
        }
    }
    Ok(part)
}

fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    let last = sorted.len().checked_sub(1)?;
    Some(sorted[((last as f64) * p).round() as usize])
}

fn show(d: Option<Duration>) -> String {
    match d {
        None => "-".to_owned(),
        Some(d) if d < Duration::from_millis(1) => format!("{}µs", d.as_micros()),
        Some(d) => format!("{:.1}ms", d.as_secs_f64() * 1000.0),
    }
}

/// `--pin` 时服务器和负载工具各用哪个 CPU。
const SERVER_CPU: &str = "0";
const LOAD_CPU: &str = "1";

/// `--pin`:把负载工具自己固定在 [`LOAD_CPU`] 上。要在开任何线程之前做:
/// `taskset -p` 只改主线程,之后开的线程都从它继承。
fn pin_myself() -> Result<()> {
    ensure!(
        std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2,
        "--pin 要至少 2 个 CPU"
    );
    let pid = std::process::id().to_string();
    let status = std::process::Command::new("taskset")
        .args(["-p", "-c", LOAD_CPU, &pid])
        .stdout(std::process::Stdio::null())
        .status()
        .context("--pin 要用 taskset(Linux 的 util-linux 里有)")?;
    ensure!(
        status.success(),
        "taskset 没能把负载工具固定在 CPU {LOAD_CPU} 上"
    );
    say!("服务器固定在 CPU {SERVER_CPU},负载工具固定在 CPU {LOAD_CPU}");
    Ok(())
}
