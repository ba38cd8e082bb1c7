//! 第 5 课:带超时的 TCP 客户端(练习)
//!
//! 它连上服务器,把 `--message` 作为一行发过去,读回一行回复并打印,然后退出。
//! 连不上(连接被拒绝、超时)或者服务器迟迟不回复时,它在 stderr 说清楚发生了什么、
//! 该检查什么,并以非 0 退出码退出,而不是 panic 或者永远等下去。
//!
//! 协议:与第 4 课相同。客户端发一行(以 `\n` 结尾),服务器回一行,然后关闭连接;
//! 回复以 `\n` 结尾,或者以服务器关闭连接结尾。
//!
//! 课本:book/src/05-tcp-client.md。完成下面三个 TODO,然后评分:
//!
//! ```text
//! cargo test -p lesson-05
//! ```
//!
//! 手动试一试(服务器用第 4 课的参考答案,或者你自己写好的第 4 课):
//!
//! ```text
//! cargo run -p solution-04
//! # 另一个终端:
//! cargo run -p lesson-05 -- --message 你好
//! ```

// 骨架里的 todo!() 让一些参数和导入暂时用不上;所有步骤都写完以后,可以删掉下面这一行。
#![allow(unused_variables, unused_imports, unused_mut, dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;

/// 往 stdout 打印一行,和 println! 一样;但 stdout 被关掉了也不会 panic。
///
/// 比如 `… | head -n 1`:head 读完第一行就走了,之后再写 stdout 会失败(Rust 程序忽略 SIGPIPE,
/// 写一个没人读的管道是一个错误),而 println! 遇到错误就 panic,退出码变成 101。没人看的输出
/// 丢掉就是了:收没收到回复,退出码照样说得清清楚楚。服务器的 log! 也是这样(课本第 6 课「日志写不出去」)。
macro_rules! show {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// 回复最多读这么多字节:服务器再不讲理,也不能让我们无限地占用内存。
const MAX_REPLY: u64 = 64 * 1024;

/// 第 5 课:带超时的 TCP 客户端。发一行,收一行。
#[derive(Parser)]
#[command(
    disable_help_flag = true,
    help_template = "{about}\n\n用法: {bin} [选项]\n\n选项:\n{options}"
)]
struct Args {
    /// 服务器的 IP 地址或主机名(默认 127.0.0.1)
    #[arg(long, default_value = "127.0.0.1", value_parser = clap_zh::host, hide_default_value = true)]
    host: String,

    /// 服务器的端口(默认 8998)
    #[arg(short, long, default_value_t = 8998, hide_default_value = true)]
    port: u16,

    /// 要发送的文字,一行(默认「我爱 Rust」)
    #[arg(short, long, default_value = "我爱 Rust", hide_default_value = true)]
    message: String,

    /// 连接和等回复各最多等多少秒(默认 3)
    #[arg(short, long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..), hide_default_value = true)]
    timeout: u64,

    /// 显示帮助
    #[arg(short, long, action = clap::ArgAction::Help)]
    help: Option<bool>,
}

fn main() -> ExitCode {
    let args: Args = clap_zh::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("错误: {err:#}");
            ExitCode::FAILURE
        }
    }
}

// ANCHOR: run
fn run(args: &Args) -> Result<()> {
    let server = resolve(&args.host, args.port)?;
    let timeout = Duration::from_secs(args.timeout);

    let stream = connect(server, timeout)?;
    send_line(&stream, &args.message)?;
    let reply = read_reply(&stream, server, timeout)?;
    show!("服务器回复: {}", String::from_utf8_lossy(&reply));
    Ok(())
}
// ANCHOR_END: run

/// 把主机名和端口解析成一个地址(`localhost` 这样的名字也可以)。
///
/// 一个名字可能对应好几个地址,比如 `localhost` 常常既是 ::1 又是 127.0.0.1。
/// 这门课的服务器默认只绑定 127.0.0.1,所以有 IPv4 地址时优先用它。
fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .with_context(|| format!("无法解析地址 {host}:{port}"))?
        .collect();
    addrs
        .iter()
        .find(|addr| addr.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| anyhow!("{host}:{port} 没有对应的地址"))
}

// ANCHOR: connect
/// 第 1 步:带超时地连接服务器,并给之后的读写也设上超时。
fn connect(server: SocketAddr, timeout: Duration) -> Result<TcpStream> {
    // TODO: 第 1 步:带超时地连接服务器,并给之后的读写也设上超时。
    //   - TcpStream::connect_timeout(&server, timeout):服务器那台机器不回应时,
    //     普通的 connect 可能要等一两分钟。
    //   - 连接被拒绝(io::ErrorKind::ConnectionRefused)是最常见的错误:服务器没启动,
    //     或者端口写错了。用 bail! 返回一句中文说明,要提到地址(含端口)和「拒绝」二字,
    //     并提醒检查服务器是否在运行(评分器会检查这几点)。不要 unwrap。
    //   - 连接超时(TimedOut)也用一句中文说明,要写出「超时」或等了几「秒」(评分器会检查);
    //     其他错误用 with_context 加上说明。
    //   - 连上以后 set_read_timeout / set_write_timeout,返回这个 TcpStream。
    todo!("第 1 步:在 {} 秒内连接 {server}", timeout.as_secs())
}
// ANCHOR_END: connect

// ANCHOR: send_line
/// 第 2 步:把消息加上换行,完整地发出去。
fn send_line(mut stream: &TcpStream, message: &str) -> Result<()> {
    // TODO: 第 2 步:把 message 加上 \n,用 write_all 完整地发出去。
    //   - 换行是消息的边界:服务器读到 \n 才知道这条消息结束了。
    //   - write 可能只写出一部分;write_all 会一直写到全部写完。
    todo!("第 2 步:发送一行「{message}」")
}
// ANCHOR_END: send_line

// ANCHOR: read_reply
/// 第 3 步:读回复:读到换行为止,或者读到服务器关闭连接为止。
fn read_reply(stream: &TcpStream, server: SocketAddr, timeout: Duration) -> Result<Vec<u8>> {
    // TODO: 第 3 步:读回复:读到 \n 为止,或者读到服务器关闭连接(EOF)为止。
    //   - 回复可能分好几次到达,一次 read 拿到的未必是全部。用
    //     BufReader::new(stream.take(MAX_REPLY)) 再 read_until(b'\n', &mut reply)。
    //   - 不要用 read_to_end 等连接关闭:服务器发完一行以后,不一定马上关闭连接。
    //   - 返回 Ok(0) 说明服务器什么都没回就关闭了:用 bail! 说明。
    //   - 读超时(WouldBlock 或 TimedOut):用 bail! 返回一句中文说明,
    //     要提到「超时」或等了几「秒」(评分器会检查)。
    //   - 去掉行尾的 \n(和紧挨在它前面的 \r),别的一个字节也不动,返回回复的字节。
    todo!("第 3 步:读 {server} 的回复")
}
// ANCHOR_END: read_reply
