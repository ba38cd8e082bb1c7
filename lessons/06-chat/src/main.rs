//! 第 6 课:多人聊天室(练习)
//!
//! 一个程序,两个子命令:
//! - `server`:聊天室服务器。每个客户端一个线程;谁在线放在 `Arc<Mutex<…>>` 里;
//!   一句话广播给除了说话人以外的所有人;跟不上的客户端被请走,不会拖住整个房间。
//! - `client`:聊天室客户端。两个线程,一个读键盘发消息,一个收消息打印;断线自动重连。
//!
//! 协议(一行一条,UTF-8,用 `course nc` 就能手动聊,见下面):
//! - 连上以后,服务器问昵称;客户端发的第一行就是昵称:1 到 16 个字符,
//!   只能是字母(汉字也算)、数字、`_`、`-`;不合法或重名时服务器回一行 `! 原因`,接着等;
//! - 之后的每一行:普通文字 → 其他人收到 `[昵称] 文字`(自己收不到自己的话);
//!   `/list` 谁在线,`/nick 新昵称` 改名,`/msg 昵称 内容` 私信,`/help` 命令列表,`/quit` 离开;
//! - 服务器发的行:`[昵称] …` 是别人的话,`* …` 是通知(某某进来了、离开了、改名了),
//!   `! …` 是只给你的错误;
//! - 一行最多 1024 字节,超过就被断开;别人发来的控制字符(比如 ANSI 转义序列)显示为 �;
//! - 一个人连续 `--write-timeout` 秒(默认 5)收不下任何消息,就算跟不上,被请出聊天室,
//!   其他人收到 `* 昵称 跟不上消息,已被请出聊天室`;人满了(`--max-clients`,默认 1000),
//!   新来的人收到 `! 聊天室已满…`;连上以后 `--nick-timeout` 秒(默认 60)内要报上昵称。
//!
//! 课本:book/src/06-chat.md。协议的解析(`protocol.rs`)和房间(`server/room.rs`)已经写好了;
//! 完成 `server.rs` 和 `server/` 里的第 1–8 步、`client.rs` 里的第 9–12 步,然后评分:
//!
//! ```text
//! cargo test -p lesson-06
//! ```
//!
//! 手动试一试:
//!
//! ```text
//! cargo run -p lesson-06 -- server
//! # 另外两个终端:
//! cargo run -p lesson-06 -- client --nick 小明
//! cargo run -q -p course -- nc 127.0.0.1 2023
//! ```

mod client;
mod protocol;
mod server;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::protocol::DEFAULT_PORT;

/// 第 6 课:多人聊天室。先开服务器,再开几个客户端。
#[derive(Parser)]
#[command(
    disable_help_flag = true,
    disable_help_subcommand = true,
    help_template = "{about}\n\n用法: {bin} <命令> [选项]\n\n命令:\n{subcommands}\n\n选项:\n{options}"
)]
struct Args {
    #[command(subcommand)]
    command: Role,

    /// 显示帮助
    #[arg(short, long, action = clap::ArgAction::Help, global = true)]
    help: Option<bool>,
}

/// 子命令的帮助格式(clap 默认的是英文)。
const SUBCOMMAND_HELP: &str = "{about}\n\n选项:\n{options}";

// ANCHOR: role
#[derive(Subcommand)]
enum Role {
    /// 启动聊天室服务器
    #[command(help_template = SUBCOMMAND_HELP)]
    Server {
        /// 要绑定的 IP 地址(默认 127.0.0.1:只在本机回环地址上监听)
        #[arg(long, default_value = "127.0.0.1", value_parser = clap_zh::host, hide_default_value = true)]
        host: String,

        /// 要绑定的端口;0 表示让操作系统随便挑一个空闲端口(默认 2023)
        #[arg(short, long, default_value_t = DEFAULT_PORT, hide_default_value = true)]
        port: u16,

        /// 最多同时有多少个连接(包括还没报昵称的);再来的人收到「! 聊天室已满」(默认 1000)
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000), hide_default_value = true)]
        max_clients: u64,

        /// 连上以后,多少秒内要报上一个合法的昵称,否则断开(默认 60)
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600), hide_default_value = true)]
        nick_timeout: u64,

        /// 一个人连续多少秒收不下任何消息,就算跟不上,被请出聊天室(默认 5)
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600), hide_default_value = true)]
        write_timeout: u64,
    },
    /// 连上聊天室,开始聊天
    #[command(help_template = SUBCOMMAND_HELP)]
    Client {
        /// 服务器的 IP 地址或主机名(默认 127.0.0.1)
        #[arg(long, default_value = "127.0.0.1", value_parser = clap_zh::host, hide_default_value = true)]
        host: String,

        /// 服务器的端口(默认 2023)
        #[arg(short, long, default_value_t = DEFAULT_PORT, hide_default_value = true)]
        port: u16,

        /// 昵称;不给的话,连上以后打的第一行就是昵称
        #[arg(short, long)]
        nick: Option<String>,
    },
}
// ANCHOR_END: role

fn main() -> ExitCode {
    let args: Args = clap_zh::parse();
    match run(args.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("错误: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(role: Role) -> Result<()> {
    match role {
        Role::Server {
            host,
            port,
            max_clients,
            nick_timeout,
            write_timeout,
        } => {
            let limits = server::Limits {
                // clap 已经把它限制在 100000 以内,usize 一定放得下。
                max_clients: usize::try_from(max_clients).unwrap_or(usize::MAX),
                nick_timeout: Duration::from_secs(nick_timeout),
                write_timeout: Duration::from_secs(write_timeout),
            };
            let listener = server::bind(&host, port)?;
            server::serve(&listener, limits)
        }
        Role::Client { host, port, nick } => client::run(&host, port, nick),
    }
}
