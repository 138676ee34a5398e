// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {IERC5192} from "../interfaces/IERC5192.sol";
import {ITitleRegistry} from "../interfaces/ITitleRegistry.sol";
import {Membership} from "../Membership.sol";
import {Organisation} from "../lib/TitleTypes.sol";

/// @title Read-only ERC-721 view of title, every token locked (ERC-5192)
/// @notice Each live eBL is a token owned by the organisation that holds it; wallets and explorers can
/// list holdings. Nothing moves through this view: transfers and approvals revert with
/// {ITitleRegistry-TitleERC721Disabled}; title moves only by title actions.
/// @dev The deriving contract says which organisation holds a live eBL ({_requireOwned}) and reports
/// every change of holding through {_mintHolding}, {_moveHolding} and {_burnHolding}, which keep
/// `balanceOf` and the {IERC721-Transfer} events in step with the title records.
abstract contract TitleTokenView is IERC721, IERC5192, Membership {
    /// @notice Number of live eBLs an organisation holds.
    /// @param owner The organisation identity address.
    /// @return The number of live eBLs it holds (0 for non-members); reverts for the zero address.
    function balanceOf(address owner) external view virtual returns (uint256) {
        if (owner == address(0)) revert MembershipZeroAddress();
        return _orgs[owner].balance;
    }

    /// @notice The organisation holding a live eBL. Reverts for unknown and terminal eBLs.
    /// @param tokenId The eBL id.
    /// @return The holder organisation.
    function ownerOf(uint256 tokenId) external view virtual returns (address) {
        return _requireOwned(tokenId);
    }

    /// @notice Disabled: title moves only through title actions.
    function safeTransferFrom(address, address, uint256, bytes calldata) external pure {
        revert ITitleRegistry.TitleERC721Disabled();
    }

    /// @notice Disabled: title moves only through title actions.
    function safeTransferFrom(address, address, uint256) external pure {
        revert ITitleRegistry.TitleERC721Disabled();
    }

    /// @notice Disabled: title moves only through title actions.
    function transferFrom(address, address, uint256) external pure {
        revert ITitleRegistry.TitleERC721Disabled();
    }

    /// @notice Disabled: there are no approvals.
    function approve(address, uint256) external pure {
        revert ITitleRegistry.TitleERC721Disabled();
    }

    /// @notice Disabled: there are no operators.
    function setApprovalForAll(address, bool) external pure {
        revert ITitleRegistry.TitleERC721Disabled();
    }

    /// @notice There are no approvals: always the zero address.
    /// @return The zero address.
    function getApproved(uint256) external pure returns (address) {
        return address(0);
    }

    /// @notice There are no operators: always false.
    /// @return False.
    function isApprovedForAll(address, address) external pure returns (bool) {
        return false;
    }

    /// @inheritdoc IERC5192
    function locked(uint256 tokenId) external view virtual returns (bool) {
        _requireOwned(tokenId);
        return true;
    }

    /// @inheritdoc IERC165
    function supportsInterface(
        bytes4 interfaceId
    ) public view virtual override(AccessControl, IERC165) returns (bool) {
        return
            interfaceId == type(IERC721).interfaceId ||
            interfaceId == type(IERC5192).interfaceId ||
            super.supportsInterface(interfaceId);
    }

    /// @dev The organisation holding the live eBL `tokenId`. Reverts with {ITitleRegistry-TitleUnknownEbl}
    /// for an unknown id and with {ITitleRegistry-TitleWrongStatus} for a terminal one.
    function _requireOwned(uint256 tokenId) internal view virtual returns (address);

    /// @dev Gives the new eBL `tokenId` to organisation `to` (record `t`): one more for `to`, and the
    /// {IERC721-Transfer} event from the zero address.
    function _mintHolding(address to, Organisation storage t, uint256 tokenId) internal virtual {
        // Cannot overflow: a balance counts live eBLs, far below 2^64.
        unchecked {
            ++t.balance;
        }
        emit Transfer(address(0), to, tokenId);
    }

    /// @dev Ends the eBL `tokenId` held by organisation `from` (record `f`): one fewer for `from`, and the
    /// {IERC721-Transfer} event to the zero address.
    function _burnHolding(address from, Organisation storage f, uint256 tokenId) internal virtual {
        // Cannot underflow: `from` holds `tokenId`, so its balance counts it.
        unchecked {
            --f.balance;
        }
        emit Transfer(from, address(0), tokenId);
    }

    /// @dev Moves the holding of `tokenId` from organisation `from` (record `f`) to `to` (record `t`):
    /// one fewer for `from`, one more for `to`, and the {IERC721-Transfer} event.
    function _moveHolding(
        address from,
        Organisation storage f,
        address to,
        Organisation storage t,
        uint256 tokenId
    ) internal virtual {
        // Cannot underflow: `from` holds `tokenId`, so its balance counts it (as in OpenZeppelin's
        // {ERC721-_update}). Cannot overflow: a balance counts live eBLs, far below 2^64.
        unchecked {
            --f.balance;
            ++t.balance;
        }
        emit Transfer(from, to, tokenId);
    }
}
