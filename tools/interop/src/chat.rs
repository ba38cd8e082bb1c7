//! 聊天室的一对:第 6 课的客户端对教程风格的聊天室服务器。
//!
//! 聊天室里还要有「另一个人」([`Peer`],一个像 nc 那样的普通连接),才看得见客户端说的话
//! 到了别人那里是什么样子。另一个人总是先进门:服务器把他放进名单以后,第 6 课的客户端才连上来,
//! 它说的每一句话才一定会转给他。

use std::time::Duration;

use anyhow::{Result, bail};

use crate::record::{Peer, Running};
use crate::{Lab, Outcome, Trial};

/// 第 6 课的客户端等服务器的第一句话最多等 10 秒;再给启动和退出留些余量。
const CLIENT_GIVES_UP: Duration = Duration::from_secs(20);
/// 一句话从说出到别人收到,最多等这么久。
const ARRIVE: Duration = Duration::from_secs(10);
/// 客户端按下 Ctrl-D 以后,最多等它这么久退出。
const CLIENT_EXIT: Duration = Duration::from_secs(10);
/// 第 6 课的客户端用的昵称和它打的字。
const NICK: &str = "小明";
const TYPED: [&str; 2] = ["你好", "/list"];
/// 另一个人在说第 6 课协议的服务器上用的昵称。
const OTHER: &str = "小红";
/// 说第 6 课协议的服务器对 /list 的回答的开头(那时在线的是另一个人和客户端)。
const LIST_REPLY: &str = "* 在线 2 人";

/// 06:第 6 课的客户端 → 教程风格的聊天室服务器。`flags` 是服务器的开关:
/// 没有开关时它只转发,一句话也不说;`--greet` 连上就先说一句欢迎;`--nick` 说第 6 课的协议。
pub(crate) fn client_to_seed_chat(lab: &Lab, flags: &[&str]) -> Result<Trial> {
    let greets = !flags.is_empty();
    let protocol = flags.contains(&"--nick");
    let (server, addr) = lab.python_server("seed_chat.py", flags)?;
    // 只转发的服务器在 accept 的线程里就把人放进名单:另一个人一连上,就在名单里了。
    let mut peer = Peer::connect(addr)?;
    // 会打招呼的服务器,是先把人放进名单、再说欢迎的:收到欢迎,就说明他在名单里了。
    if greets && !peer.wait_for(ARRIVE, "欢迎") {
        bail!("另一个人 {} 秒内没有收到服务器的欢迎", ARRIVE.as_secs());
    }
    // 说协议的服务器要先报昵称,跟他打了招呼,他才在名单里。
    if protocol {
        peer.say(OTHER)?;
        if !peer.wait_for(ARRIVE, &format!("你好,{OTHER}")) {
            bail!(
                "另一个人报了昵称,{} 秒内没有等到服务器的招呼",
                ARRIVE.as_secs()
            );
        }
    }

    let mut client = start_client(lab, &addr.port().to_string())?;
    if !greets {
        // 客户端等不到服务器的第一句话,会自己放弃。
        client.wait_exit(CLIENT_GIVES_UP);
        return finish(server, peer, client);
    }
    if protocol {
        peer.wait_for(ARRIVE, &format!("[{NICK}] {}", TYPED[0]));
        // 「* 在线 2 人」是 /list 的回答(欢迎语里的是「现在在线 2 人」,来得更早)。
        client.wait_output(ARRIVE, LIST_REPLY);
    } else {
        // 客户端打的最后一行是 /list:它转到另一个人那里了,前面的也就都到了。
        peer.wait_for(ARRIVE, TYPED[TYPED.len() - 1]);
    }
    client.close_stdin();
    client.wait_exit(CLIENT_EXIT);
    if protocol {
        // 客户端走了,服务器会告诉大家:等到这一句,另一个人的记录才每次都一样。
        peer.wait_for(ARRIVE, &format!("{NICK} 离开了"));
    }
    finish(server, peer, client)
}

/// 启动第 6 课的客户端,替它打好字(它进门以后才会读)。
fn start_client(lab: &Lab, port: &str) -> Result<Running> {
    let mut client = lab.rust(
        "06",
        "客户端",
        &["client", "--port", port, "--nick", NICK],
        true,
    )?;
    for line in TYPED {
        client.type_line(line)?;
    }
    Ok(client)
}

/// 结束所有人,根据客户端和另一个人看到的东西下结论。
fn finish(server: Running, peer: Peer, client: Running) -> Result<Trial> {
    let client = client.finish();
    let peer = peer.finish()?;
    let server = server.finish();
    let heard = |line: &str| peer.received.iter().any(|got| got == line);

    let entered = client.stdout.contains("已连上");
    let (outcome, evidence) = if !entered {
        (
            Outcome::Fails,
            "客户端没有进门,什么也没说;另一个人什么也没收到。",
        )
    } else if heard(&format!("[{NICK}] {}", TYPED[0])) && client.stdout.contains(LIST_REPLY) {
        (
            Outcome::Works,
            "另一个人收到了带名字的「[小明] 你好」,客户端的 /list 也得到了回答。",
        )
    } else if heard(NICK) || TYPED.iter().any(|line| heard(line)) {
        (
            Outcome::Degrades,
            "另一个人收到的昵称和 /list 都成了普通的一句话,「你好」前面也没有名字;/list 没有回答。",
        )
    } else {
        (Outcome::Fails, "客户端进了门,可另一个人什么也没收到。")
    };
    Ok(Trial {
        outcome,
        evidence: evidence.to_owned(),
        programs: vec![server, peer, client],
    })
}
